/** The zod schema of a stored run record: what the index caches (a file, a KV bucket) are checked against when read back. */
import { z } from 'zod';
import { SEARCH_TYPES } from '../definition/search.js';
import { RunHeaderSchema, RunParentSchema, RunScheduleSchema } from '../events/index.js';
import type { RunRecord } from './record.js';

/** A run's parent as its summary names it (RunSummary's `parent`, a `parent` trigger's fields). */
const SummaryParentSchema = RunParentSchema.pick({ runId: true, task: true, relation: true });

const TriggerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), type: z.string().nullable(), id: z.string().nullable() }),
  z.object({ kind: z.literal('schedule'), slot: z.string(), trigger: z.number().int() }),
  z.object({ kind: z.literal('parent'), ...SummaryParentSchema.shape }),
  z.object({ kind: z.literal('retry'), runId: z.string() }),
  z.object({ kind: z.literal('manual') }),
]);

export const RunRecordSchema = RunHeaderSchema.extend({
  lastSeq: z.number().int().positive(),
  parent: SummaryParentSchema.optional(),
  schedule: RunScheduleSchema.pick({ trigger: true, slot: true }).optional(),
  trigger: TriggerSchema,
  agents: z.array(z.string()),
  durationMs: z.number().nullable(),
  result: z.string(),
  outputText: z.string().nullable(),
  tasks: z.record(
    z.string(),
    z.object({ status: z.string(), attempts: z.number().int(), durationMs: z.number().nullable() }),
  ),
  waiting: z.array(z.object({ task: z.string(), approvers: z.array(z.string()) })),
  search: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  searchTypes: z.record(z.string(), z.enum(SEARCH_TYPES)).optional(),
}) satisfies z.ZodType<RunRecord>;

/** What a settled run's slim row holds (record-set.ts): checked when the index cache is read; the whole record when it is read back. */
export const SlimFieldsSchema = RunRecordSchema.pick({
  runId: true,
  workflowId: true,
  version: true,
  status: true,
  startedAt: true,
  lastSeq: true,
  parent: true,
  trigger: true,
  agents: true,
  search: true,
  searchTypes: true,
});

export const StoredTrackedSchema = z.object({
  record: RunRecordSchema,
  definitionHash: z.string().min(1),
  /** Checked by the interpreter's restore (it refuses a fold that does not fit the chart). */
  fold: z
    .object({
      value: z.unknown(),
      status: z.enum(['active', 'done']),
      context: z.record(z.string(), z.unknown()),
      entered: z.array(z.string()),
    })
    .nullable(),
  hash: z.string(),
});
