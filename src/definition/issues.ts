/**
 * Turning schema problems into messages that name the place and the fix: zod issues, unknown keys (warnings, so newer
 * files still load) and did-you-mean suggestions.
 */
import type { z } from 'zod';
import type { Diagnostic, ErrorCode } from '../errors/index.js';
import { KNOWN_KEYS } from './schema.js';
import { TASK_TYPES } from './task-types.js';

export type RawPath = (string | number)[];
export interface Finding {
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
  path: RawPath;
  /** Point at the key rather than the value (unknown keys). */
  onKey?: boolean;
  /** 0-based offset inside the string value (template problems). */
  inString?: number;
}

/** A problem of the document's text rather than of a value in its tree: at `at` (the first line and column by default). */
export function textDiagnostic(
  code: ErrorCode,
  message: string,
  at: { line: number; col: number } = { line: 1, col: 1 },
  severity: Diagnostic['severity'] = 'error',
): Diagnostic {
  return { severity, code, message, path: [], line: at.line, col: at.col };
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function rawAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isObj(v) && Object.hasOwn(v, String(seg))) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

/** `workflow.tasks[2].retry_policy.backoff` */
function pathString(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) => {
      if (typeof seg === 'number') return `[${seg}]`;
      const s = String(seg);
      if (/^[A-Za-z_][\w-]*$/.test(s)) return i === 0 ? s : `.${s}`;
      return `[${JSON.stringify(s)}]`;
    })
    .join('');
}

function describeValue(v: unknown): string {
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return String(v);
}

/**
 * The edit distance of a and b, or `limit + 1` as soon as it is known to be more than `limit`; `work.cells` counts
 * the cells filled.
 */
function editDistance(a: string, b: string, limit: number, work: { cells: number }): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    let least = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (row[j]! < least) least = row[j]!;
      prev = cur;
    }
    work.cells += b.length;
    // No cell of a row is less than the row before's least: the distance is past the limit already.
    if (least > limit) return limit + 1;
  }
  return row[b.length]!;
}

/**
 * Cells of the edit-distance table one suggestion may fill, over all its candidates. A definition is anyone's YAML (a
 * deploy on NATS, the dashboard's editor), and one with thousands of unknown references among thousands of long,
 * alike ids made validation compare each with each: 4,900 of them, 53 characters each, took 150 s of CPU. A comparison
 * mostly stops after a few rows (a candidate unlike the word is past the limit at once), so real lists are searched
 * whole (the 418 IANA time zones fill 16,000 to 46,000 cells); alike candidates fill whole tables and meet the budget,
 * and among them the closest may go unsaid (a suggestion only helps; the error stands either way).
 */
const MAX_CELLS = 100_000;

/** The closest candidate, if it is close enough to be the intended word. */
function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestD = limit + 1;
  const work = { cells: 0 };
  for (const c of candidates) {
    // The distance is at least the difference of the lengths.
    if (Math.abs(c.length - w.length) >= bestD) continue;
    if (work.cells > MAX_CELLS) break;
    const d = editDistance(w, c.toLowerCase(), bestD - 1, work);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

export function didYouMean(word: string, candidates: readonly string[]): string {
  const s = suggest(word, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  record: 'a map',
};

export function formatIssue(issue: z.core.$ZodIssue, raw: unknown): Finding {
  const path = issue.path as RawPath;
  const actual = rawAt(raw, path);
  const where = pathString(path);
  const present = actual !== undefined;
  const missing = !present && path.length > 0 && isObj(rawAt(raw, path.slice(0, -1)));
  if (missing) {
    return {
      severity: 'error',
      code: 'LF_SCHEMA',
      message: `${pathString(path.slice(0, -1)) || 'the document'}: missing required key "${String(path[path.length - 1])}"`,
      path,
    };
  }
  let message: string;
  switch (issue.code) {
    case 'invalid_type':
      // A COMMAND's command given as one string: its schema's message says how to write it as a list.
      if (path[path.length - 1] === 'command' && typeof actual === 'string') {
        message = issue.message;
        break;
      }
      message = `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${present ? describeValue(actual) : 'nothing'}`;
      break;
    case 'invalid_value': {
      const isType = path[path.length - 1] === 'type' && path.includes('tasks');
      const values = (isType ? [...TASK_TYPES] : issue.values).map(String);
      message = `expected one of ${values.join(', ')}, got ${describeValue(actual)}`;
      if (typeof actual === 'string') message += didYouMean(actual, values);
      break;
    }
    case 'invalid_union':
    case 'invalid_format':
    case 'custom':
      message = issue.message;
      if (present && !isObj(actual)) message += `, got ${describeValue(actual)}`;
      break;
    case 'too_small':
    case 'too_big':
      message = issue.message.startsWith('Too')
        ? `${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`
        : issue.message;
      if (present && !Array.isArray(actual)) message += `, got ${describeValue(actual)}`;
      break;
    default:
      message = issue.message;
  }
  return { severity: 'error', code: 'LF_SCHEMA', message: `${where}: ${message}`, path };
}

/** Unknown keys anywhere the schema knows the shape: warnings, so a newer definition still loads. */
export function unknownKeys(root: unknown): Finding[] {
  const out: Finding[] = [];
  const check = (v: unknown, known: readonly string[], path: RawPath, where: string) => {
    if (!isObj(v)) return;
    for (const k of Object.keys(v)) {
      if (known.includes(k)) continue;
      out.push({
        severity: 'warning',
        code: 'LF_UNKNOWN_KEY',
        path: [...path, k],
        onKey: true,
        message: `unknown key "${k}" in ${where}${didYouMean(k, known)}`,
      });
    }
  };
  check(root, ['workflow'], [], 'the document (the top level has only `workflow:`)');
  if (!isObj(root) || !isObj(root.workflow)) return out;
  const wf = root.workflow;
  const base: RawPath = ['workflow'];
  check(wf, KNOWN_KEYS.workflow, base, 'workflow');
  check(wf.input, KNOWN_KEYS.input, [...base, 'input'], 'workflow.input');
  check(wf.failure_workflow, KNOWN_KEYS.failure_workflow, [...base, 'failure_workflow'], 'failure_workflow');
  check(wf.concurrency, KNOWN_KEYS.concurrency, [...base, 'concurrency'], 'concurrency');
  check(wf.payloads, KNOWN_KEYS.payloads, [...base, 'payloads'], 'payloads');
  if (Array.isArray(wf.triggers)) {
    wf.triggers.forEach((t, i) => check(t, KNOWN_KEYS.trigger, [...base, 'triggers', i], `triggers[${i}]`));
  }
  if (Array.isArray(wf.notifications)) {
    wf.notifications.forEach((n, i) =>
      check(n, KNOWN_KEYS.notification, [...base, 'notifications', i], `notifications[${i}]`),
    );
  }
  if (Array.isArray(wf.tasks)) {
    wf.tasks.forEach((t, i) => {
      if (!isObj(t)) return;
      const p: RawPath = [...base, 'tasks', i];
      const name = typeof t.id === 'string' ? t.id : `tasks[${i}]`;
      check(t, KNOWN_KEYS.task, p, `task ${name}`);
      check(t.retry_policy, KNOWN_KEYS.retry_policy, [...p, 'retry_policy'], `retry_policy of task ${name}`);
      if (isObj(t.decision_cases)) {
        for (const [c, body] of Object.entries(t.decision_cases)) {
          check(body, KNOWN_KEYS.decision_case, [...p, 'decision_cases', c], `decision case ${c} of task ${name}`);
        }
      }
    });
  }
  return out;
}
