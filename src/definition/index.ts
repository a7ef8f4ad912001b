/**
 * Loading workflow definitions: YAML text → canonical Definition plus every problem found, each with file:line:col.
 * Pure: the caller reads the file. This file is the module's only import surface.
 */
import { LineCounter, parseDocument } from 'yaml';
import {
  aliasProblems,
  anchoredTopKeys,
  anchorInBannerMessage,
  firstAliasOffset,
  isStackOverflow,
  MAX_ALIAS_COUNT,
  TOO_DEEP_MESSAGE,
  tooDeep,
} from './aliases.js';
import { errorMessage, type Diagnostic } from '../errors/index.js';
import { checkStructure } from './checks.js';
import { CheckContext } from './context.js';
import { formatIssue, isObj, textDiagnostic, unknownKeys, type Finding } from './issues.js';
import {
  jsonLongerThan,
  MAX_DEFINITION_BYTES,
  MAX_DEFINITION_JSON_BYTES,
  MAX_TASKS,
  tooLargeMessage,
  tooLargeStoredMessage,
  tooManyTasksMessage,
  utf8LengthOver,
} from './limits.js';
import { normalize } from './normalize.js';
import { checkOsValues } from './os-values.js';
import { blankedBanner, Locator, stripBanner } from './positions.js';
import { DefinitionSchema } from './schema.js';
import { checkTemplates } from './templates.js';
import { checkFailureSteps } from './failure-steps.js';
import { checkAgentLevels } from './agent-levels.js';
import { checkTriggers } from './triggers.js';
import type { Definition } from './types.js';

export * from './types.js';
export * from './task-types.js';
export { isStatusPattern } from './http.js';
export { SEARCH_NAME, toSearchValue } from './search.js';
export { definitionHash } from './hash.js';
export {
  COMMAND_HANDLER,
  HTTP_HANDLER,
  TRANSFORM_HANDLER,
  DEFAULT_QUEUE,
  handlerName,
  STATION_NAME,
  stationQueue,
  stationOfQueue,
} from './task-handlers.js';
export { FORK_BRANCH_TYPES, isDynamicFork, parseBranches, type ForkBranch } from './fork-dynamic.js';
export { failureStepHandler, failureStepOf, isFailureStep, type FailureStep } from './failure-steps.js';
export { PrioritySchema } from './schema.js';
export { NotificationsSchema } from './notification-schema.js';
export { SKILL_NAME, MAX_REQUIRED_SKILLS } from './task-schema.js';
export { definitionJsonSchema, DEFINITION_SCHEMA_ID, DEFINITION_SCHEMA_FILE } from './json-schema.js';
export { notificationRules } from './normalize.js';
export { decisionTargets, effectiveDependencies, loopOwners, upstreamOf, type Upstream } from './graph.js';
export { workflowGraph, type WorkflowGraph } from './workflow-graph.js';
export { parseDuration } from '../duration.js';
export { DEFAULT_INLINE_LIMIT, PayloadsSchema } from './payloads.js';
export { parseLimits, hasLimits, StoredLimitsSchema, type GlobalLimits, type LimitSpec } from './global-limits.js';
export { positionIn, sourceDocument, type SourceDocument } from './position-in.js';
export { Locator } from './positions.js';
export { tasksThatNeverRun, neverRunsMessage } from './reachability.js';
export {
  MAX_DEFINITION_BYTES,
  MAX_DEFINITION_JSON_BYTES,
  MAX_TASKS,
  definitionLimitProblem,
  tooLargeMessage,
  tooLargeStoredMessage,
} from './limits.js';
export { MAX_DURATION_MS, MAX_DURATION_TEXT } from '../duration.js';
export { namesADirectory, NUL_CHARACTER, OUTPUT_TO_DIRECTORY } from './os-values.js';

export interface ParseResult {
  /** null iff at least one diagnostic is an error. */
  definition: Definition | null;
  diagnostics: Diagnostic[];
}

/** Task types are case-insensitive: validate an upper-cased copy, report against the original. */
function upperTypes(raw: unknown): unknown {
  if (!isObj(raw) || !isObj(raw.workflow) || !Array.isArray(raw.workflow.tasks)) return raw;
  const tasks = raw.workflow.tasks.map((t) =>
    isObj(t) && typeof t.type === 'string' ? { ...t, type: t.type.toUpperCase() } : t,
  );
  return { ...raw, workflow: { ...raw.workflow, tasks } };
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

/** The one diagnostic of a definition over MAX_DEFINITION_BYTES: its first line, as nothing of it was read. */
export function tooLargeDiagnostic(bytes: number, atLeast = false): Diagnostic {
  return textDiagnostic('LF_DEFINITION_TOO_LARGE', tooLargeMessage(bytes, atLeast));
}

export function parseDefinition(text: string, file?: string): ParseResult {
  const withFile = (d: Diagnostic): Diagnostic => (file === undefined ? d : { ...d, file });
  // Refused before parsing: reading a large document is what costs (seconds and gigabytes for 50 MB).
  const over = utf8LengthOver(text, MAX_DEFINITION_BYTES);
  if (over !== null) return { definition: null, diagnostics: [withFile(tooLargeDiagnostic(over.bytes, over.atLeast))] };
  // Editors on Windows may start a UTF-8 file with a byte order mark; it is not part of the text.
  const source = stripBanner(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (source === null) {
    const d = textDiagnostic(
      'LF_NO_WORKFLOW',
      'expected a top-level `workflow:` key (at the start of a line, nothing after it but a comment)',
    );
    return { definition: null, diagnostics: [withFile(d)] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const diagnostics: Diagnostic[] = [];
  // A document nested past what the parser can follow: one clear error at the first place, not one stack overflow per level.
  const overflow = doc.errors.find((e) => isStackOverflow(e.message));
  if (overflow) {
    const d = textDiagnostic('LF_YAML_TOO_DEEP', TOO_DEEP_MESSAGE, lineCounter.linePos(overflow.pos[0]));
    return { definition: null, diagnostics: [withFile(d)] };
  }
  const yamlProblems = [
    ...doc.errors.map((e) => ({ e, severity: 'error' as const })),
    ...doc.warnings.map((e) => ({ e, severity: 'warning' as const })),
  ];
  for (const { e, severity } of yamlProblems) {
    const pos = lineCounter.linePos(e.pos[0]);
    const duplicate = e.code === 'DUPLICATE_KEY';
    const key =
      source
        .slice(e.pos[0])
        .match(/^[^:\n]*/)?.[0]
        .trim() ?? '';
    const message = duplicate ? `duplicate key "${key}"; a key may appear only once in a map` : `YAML: ${e.message}`;
    const code = duplicate ? 'LF_YAML_DUPLICATE_KEY' : 'LF_YAML_SYNTAX';
    diagnostics.push(withFile(textDiagnostic(code, message, pos, severity)));
  }
  // A document that does not parse has no reliable tree: report the syntax problems alone.
  if (doc.errors.length > 0) return { definition: null, diagnostics: diagnostics.sort(byPosition) };

  const deep = tooDeep(doc);
  if (deep !== null) {
    const d = textDiagnostic('LF_YAML_TOO_DEEP', TOO_DEEP_MESSAGE, lineCounter.linePos(deep));
    return { definition: null, diagnostics: [...diagnostics, withFile(d)].sort(byPosition) };
  }
  // Aliases that cannot become a tree (unresolved, or inside their own anchor) are refused before toJS.
  const aliasIssues = aliasProblems(doc);
  if (aliasIssues.length > 0) {
    const banner = blankedBanner(text.startsWith('\uFEFF') ? text.slice(1) : text, source);
    for (const a of aliasIssues) {
      const pos = lineCounter.linePos(a.offset);
      const inBanner =
        a.unknown !== undefined &&
        new RegExp(`&${a.unknown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![^\\s,\\]}])`).test(banner);
      const message = inBanner ? anchorInBannerMessage(a.unknown!) : a.message;
      diagnostics.push(withFile(textDiagnostic('LF_YAML_ALIAS', message, pos)));
    }
    return { definition: null, diagnostics: diagnostics.sort(byPosition) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package refuses an expansion beyond maxAliasCount ("billion laughs"); anything else is its own message.
    const excessive = /excessive alias count/i.test(errorMessage(err));
    const message = excessive
      ? `YAML: aliases expand to more than ${MAX_ALIAS_COUNT} copies of their anchors; write the values out or use fewer nested aliases`
      : `YAML: ${errorMessage(err)}`;
    const at = lineCounter.linePos(excessive ? firstAliasOffset(doc) : 0);
    const d = textDiagnostic(excessive ? 'LF_YAML_ALIAS' : 'LF_YAML_SYNTAX', message, at);
    return { definition: null, diagnostics: [...diagnostics, withFile(d)].sort(byPosition) };
  }
  const locator = new Locator(doc, lineCounter, source);
  const report = (f: Finding) => {
    const pos = locator.locate(f.path, { onKey: f.onKey, inString: f.inString });
    diagnostics.push(
      withFile({ severity: f.severity, code: f.code, message: f.message, path: f.path, line: pos.line, col: pos.col }),
    );
  };
  // Too many tasks, or more than a run may record once aliases are written out: refused before the checks, whose cost grows with the tasks.
  const tasks = isObj(raw) && isObj(raw.workflow) && Array.isArray(raw.workflow.tasks) ? raw.workflow.tasks.length : 0;
  if (tasks > MAX_TASKS) {
    report({
      severity: 'error',
      code: 'LF_TOO_MANY_TASKS',
      message: tooManyTasksMessage(tasks),
      path: ['workflow', 'tasks'],
      onKey: true,
    });
    return { definition: null, diagnostics: diagnostics.sort(byPosition) };
  }
  if (jsonLongerThan(raw, MAX_DEFINITION_JSON_BYTES)) {
    report({ severity: 'error', code: 'LF_DEFINITION_TOO_LARGE', message: tooLargeStoredMessage(), path: [] });
    return { definition: null, diagnostics: diagnostics.sort(byPosition) };
  }

  const parsed = DefinitionSchema.safeParse(upperTypes(raw));
  if (!parsed.success) for (const issue of parsed.error.issues) report(formatIssue(issue, raw));
  // A top-level key whose value is anchored holds pieces the workflow's aliases share (as `x-` keys do in compose files).
  const sharing = anchoredTopKeys(doc);
  for (const f of unknownKeys(raw)) if (!(f.path.length === 1 && sharing.has(String(f.path[0])))) report(f);

  let definition: Definition | null = null;
  if (isObj(raw) && isObj(raw.workflow)) {
    definition = normalize(raw.workflow);
    // What a run records is the normalised form: the same limit, now with every default spelled out.
    if (jsonLongerThan(definition, MAX_DEFINITION_JSON_BYTES)) {
      report({ severity: 'error', code: 'LF_DEFINITION_TOO_LARGE', message: tooLargeStoredMessage(), path: [] });
      return { definition: null, diagnostics: diagnostics.sort(byPosition) };
    }
    const ctx = new CheckContext(definition, raw.workflow, report);
    checkStructure(ctx);
    checkTemplates(ctx);
    checkTriggers(ctx);
    checkOsValues(ctx);
    checkFailureSteps(ctx);
    checkAgentLevels(ctx);
  }
  diagnostics.sort(byPosition);
  const failed = diagnostics.some((d) => d.severity === 'error');
  return { definition: failed ? null : definition, diagnostics };
}
export { cronFor, nextFire } from './cron.js';
