/**
 * The small value schemas the definition language uses everywhere: task id lists, durations, templates, maps of values,
 * search attributes and output declarations. Apart from the task and workflow schemas (task-schema.ts, schema.ts),
 * which both build on them.
 */
import { z } from 'zod';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '../duration.js';
import { MAX_SEARCH_ATTRS, SEARCH_NAME, SEARCH_TYPES } from './search.js';

export const TaskIds = z
  .union([z.string(), z.array(z.string())], { error: 'expected a task id or a list of task ids' })
  .meta({ description: 'A task id or a list of task ids.' });

const DURATION = 'expected a duration like "30s", "1h30m", "PT1M" or a number of milliseconds';
export const Duration = z
  .union([z.number().nonnegative(), z.string().refine((s) => parseDuration(s) !== null, { error: DURATION })], {
    error: DURATION,
  })
  .refine((v) => (parseDuration(v) ?? 0) <= MAX_DURATION_MS, {
    error: `a duration may be at most ${MAX_DURATION_TEXT} (${MAX_DURATION_MS} ms)`,
  })
  .meta({ description: 'Milliseconds, or "500ms", "30s", "2m", "1h30m", "1d", ISO 8601 "PT30S".' });

export const Template = z.string().meta({ description: 'Text that may contain ${...} references.' });
export const JsonMap = z.record(z.string(), z.unknown(), { error: 'expected a map of name: value' });

const SEARCH_NAME_FIX =
  'a search attribute name is a letter or _ then letters, digits or _ (at most 64), e.g. customer';
const SearchScalar = z.union([Template, z.number(), z.boolean()], {
  error: 'expected a value: text or a ${...} template, a number or true/false',
});
const SearchAttr = z
  .union(
    [
      SearchScalar,
      z.strictObject({
        value: SearchScalar,
        type: z.enum(SEARCH_TYPES, { error: `expected one of ${SEARCH_TYPES.join(', ')}` }).optional(),
      }),
    ],
    { error: `expected a value ("\${workflow.input.customer}") or { value, type: ${SEARCH_TYPES.join(' | ')} }` },
  )
  .meta({
    description: `A value (text or template: type string; a number; true/false) or { value, type: ${SEARCH_TYPES.join(' | ')} }.`,
  });
/** Workflow `search:` (declarations) and SET's `search:` (new values of declared ones). */
/** Names checked one by one (a key's own error would be reported as the map's). */
const searchNames = (m: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
  for (const k of Object.keys(m))
    if (!SEARCH_NAME.test(k)) ctx.addIssue({ code: 'custom', message: `"${k}": ${SEARCH_NAME_FIX}`, path: [k] });
};
export const SearchMap = z
  .record(z.string(), SearchAttr, { error: 'expected a map of name: value' })
  .superRefine(searchNames)
  .refine((m) => Object.keys(m).length <= MAX_SEARCH_ATTRS, { error: `at most ${MAX_SEARCH_ATTRS} search attributes` });
export const SetSearchMap = z
  .record(z.string(), SearchScalar, {
    error: "expected a map of name: value (names declared in the workflow's search:)",
  })
  .superRefine(searchNames);

export const OutputDecl = z
  .union([z.array(z.string()), z.record(z.string(), z.unknown())], {
    error: 'expected a list of output names or a map of name: value',
  })
  .meta({ description: 'Output names (list) or fixed/template values (map).' });
