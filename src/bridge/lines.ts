/**
 * CMD.BRIDGE lines (`@workflow inventory-validation-v1 target_folder=0UT.3OX`), read into commands. Pure: a line and
 * its number in, a command or an error with the column out; nothing is done here.
 *
 *   @workflow <workflowId>[@version] [name=value ...]   start a run
 *   @status <runId>                                     where it stands
 *   @approve <runId> <taskId> [comment ...]             approve a HUMAN task
 *   @cancel <runId>                                     cancel a run
 *
 * A value is a bare word (`0UT.3OX`: a string), a quoted string (`"two words"`, `'it''s'` or `"say \"hi\""` as JSON
 * writes it), or JSON (`limit=5`, `strict=true`, `tags=["a","b"]`, `opts={"a":1}`). Blank and `#` lines are no command.
 */
import { UsageError } from '../errors/index.js';

export type BridgeCommand =
  | { kind: 'workflow'; ref: string; inputs: Record<string, unknown> }
  | { kind: 'status'; runId: string }
  | { kind: 'approve'; runId: string; taskId: string; comment?: string }
  | { kind: 'cancel'; runId: string };

/** A line that says nothing a bridge can do: where (1-based line and column) and why. */
export class BridgeLineError extends UsageError {
  constructor(
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`line ${line}:${col}: ${reason}`, { line, col }, 'LF_BRIDGE_LINE');
  }
}

const VERBS = ['workflow', 'status', 'approve', 'cancel'] as const;
const ID = /^[A-Za-z0-9_-]+$/;
const REF = /^[A-Za-z0-9_-]+(@[0-9]+)?$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A line longer than this is refused: a bridge reads what anyone drops in its inbox. */
export const MAX_LINE = 64 * 1024;

interface Token {
  text: string;
  col: number;
  quoted: boolean;
}

/** The command of line `lineNo`, null for a blank or comment line; a BridgeLineError for anything else. */
export function parseBridgeLine(text: string, lineNo: number): BridgeCommand | null {
  if (text.length > MAX_LINE)
    throw new BridgeLineError(lineNo, 1, `the line is ${text.length} characters, over the limit of ${MAX_LINE}`);
  const line = text.replace(/\r$/, '');
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const tokens = tokenize(line, lineNo);
  const [verbTok, ...args] = tokens;
  const fail = (t: Token | undefined, why: string): never => {
    throw new BridgeLineError(lineNo, t ? t.col : line.length + 1, why);
  };
  if (!verbTok!.text.startsWith('@') || verbTok!.quoted)
    fail(
      verbTok,
      `a bridge line starts with @workflow, @status, @approve or @cancel, not "${verbTok!.text.slice(0, 40)}"`,
    );
  const verb = verbTok!.text.slice(1);
  if (!(VERBS as readonly string[]).includes(verb))
    fail(verbTok, `unknown command @${verb.slice(0, 40)}: @workflow, @status, @approve or @cancel`);
  const runIdAt = (i: number, what: string): string => {
    const t = args[i];
    if (!t) fail(undefined, `@${verb} needs ${what}`);
    if (!ID.test(t!.text)) fail(t, `${what} is letters, digits, _ and - only, not "${t!.text.slice(0, 40)}"`);
    return t!.text;
  };
  switch (verb) {
    case 'status':
    case 'cancel': {
      const runId = runIdAt(0, 'a run id');
      if (args.length > 1) fail(args[1], `@${verb} takes one run id`);
      return { kind: verb, runId };
    }
    case 'approve': {
      const runId = runIdAt(0, 'a run id');
      const taskId = runIdAt(1, 'a task id');
      const rest = args
        .slice(2)
        .map((t) => t.text)
        .join(' ');
      return { kind: 'approve', runId, taskId, ...(rest !== '' ? { comment: rest } : {}) };
    }
    default: {
      const ref = args[0];
      if (!ref) fail(undefined, '@workflow needs a workflow id: @workflow <workflowId> name=value …');
      if (!REF.test(ref!.text))
        fail(ref, `a workflow id is letters, digits, _ and - (optionally @<version>), not "${ref!.text.slice(0, 40)}"`);
      const inputs: Record<string, unknown> = {};
      for (const t of args.slice(1)) {
        const eq = t.text.indexOf('=');
        if (t.quoted || eq <= 0) fail(t, `an input is name=value, not "${t.text.slice(0, 40)}"`);
        const name = t.text.slice(0, eq);
        if (!NAME.test(name)) fail(t, `an input name is letters, digits and _, not "${name.slice(0, 40)}"`);
        if (Object.hasOwn(inputs, name)) fail(t, `input ${name} is given twice`);
        inputs[name] = inputValue(t.text.slice(eq + 1), lineNo, t.col + eq + 1);
      }
      return { kind: 'workflow', ref: ref!.text, inputs };
    }
  }
}

/**
 * Space-separated tokens; a quoted part (`"…"` as JSON writes strings, `'…'` with `''` for a quote) keeps its spaces
 * and may follow `name=`. The quotes stay in the token's text (inputValue reads them).
 */
function tokenize(line: string, lineNo: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    const start = i;
    let quoted = false;
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      const c = line[i]!;
      if (c === '"' || c === "'") {
        quoted = quoted || i === start;
        i = closingQuote(line, i, lineNo) + 1;
      } else if (c === '[' || c === '{') {
        i = closingBracket(line, i, lineNo) + 1;
      } else i++;
    }
    out.push({ text: line.slice(start, i), col: start + 1, quoted });
  }
  return out;
}

function closingQuote(line: string, at: number, lineNo: number): number {
  const q = line[at]!;
  for (let i = at + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') {
      i++;
      continue;
    }
    if (line[i] === q) {
      if (q === "'" && line[i + 1] === "'") {
        i++;
        continue;
      }
      return i;
    }
  }
  throw new BridgeLineError(lineNo, at + 1, `the ${q === '"' ? 'double' : 'single'} quote here is never closed`);
}

function closingBracket(line: string, at: number, lineNo: number): number {
  let depth = 0;
  for (let i = at; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      i = closingQuote(line, i, lineNo);
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new BridgeLineError(lineNo, at + 1, `the ${line[at]} here is never closed`);
}

/** A value: JSON when it reads as JSON (numbers, true/false/null, "strings", lists, maps), 'single quoted', else the bare word. */
function inputValue(text: string, lineNo: number, col: number): unknown {
  if (text === '') throw new BridgeLineError(lineNo, col, 'a value is missing after =; quote an empty one: name=""');
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2)
      throw new BridgeLineError(lineNo, col, 'a single-quoted value ends with its quote');
    return text.slice(1, -1).replaceAll("''", "'");
  }
  const first = text[0]!;
  const looksJson =
    first === '"' ||
    first === '[' ||
    first === '{' ||
    first === '-' ||
    (first >= '0' && first <= '9') ||
    text === 'true' ||
    text === 'false' ||
    text === 'null';
  if (!looksJson) return text;
  try {
    return JSON.parse(text);
  } catch (err) {
    // `0UT.3OX` starts with a digit but is a word: only what looks like a value of JSON's and fails is an error.
    if (first === '"' || first === '[' || first === '{')
      throw new BridgeLineError(lineNo, col, `not valid JSON: ${(err as Error).message}`);
    return text;
  }
}
