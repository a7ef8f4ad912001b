/**
 * A person's requests to the engines (docs/users.md#on-nats): start (or retry) a run, deploy a definition, set limits,
 * published as their own NATS user on lf.starts|deploys|limits.<user> and kept in LF_REQUESTS until an engine takes
 * them, judges the sender's level, acts as the engine user and answers on lf.verdicts.<kind>.<user>.<request>.
 * The engine user itself starts, deploys and sets limits directly.
 */
import { z } from 'zod';
import { RunIdSchema, WorkflowStatus } from '../../events/index.js';
import { ID_REUSE_POLICIES, MAX_DEFINITION_BYTES } from '../../definition/index.js';

/** A request's own id, in its body (`request`) and the last token of its verdict's subject. */
export const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** The body's `request`: required of a request on lf.starts|deploys|limits.<sender> (parse.ts), which names none in its subject. */
const RequestId = z.string().regex(REQUEST_ID, { error: 'expected a request id, 8-64 of A-Z a-z 0-9 _ -' }).optional();

/**
 * The largest request LF_REQUESTS takes (its max_msg_size, within the server's max_payload): a definition's
 * text at its limit, with room for the JSON around it. Larger is refused by the server, never seen by an engine.
 */
export const MAX_REQUEST_BYTES = MAX_DEFINITION_BYTES + 64 * 1024;

/** The shape of a run id a fresh start is given by its sender (executor/ids.ts newRunId): no other id is taken as one. */
export const FRESH_RUN_ID = /^\d{8}-\d{6}-[0-9a-z]{13}$/;
const FreshRunId = z
  .string()
  .regex(FRESH_RUN_ID, { error: 'expected a fresh run id (yyyymmdd-hhmmss-<13 base36 characters>)' });

const StartWorkflow = z.strictObject({
  request: RequestId,
  /** `<workflowId>` (its latest version) or `<workflowId>@<version>`. */
  workflow: z.string().min(1).max(300),
  input: z.record(z.string(), z.unknown()),
  /** The input as CLI flags give it (strings), converted to the declared types. */
  inputFromStrings: z.boolean().optional(),
  /**
   * The new run's id, chosen by the sender (the form newRunId makes) so that a request taken twice (an engine
   * that died holding it) starts one run, and a queued request can say which run it will be.
   */
  runId: FreshRunId.optional(),
  /** A caller-chosen id (`start --id`; docs/runs.md#caller-chosen-run-ids) and its reuse policy. */
  id: RunIdSchema.optional(),
  idReuse: z.enum(ID_REUSE_POLICIES).optional(),
  priority: z.number().int().min(0).max(99).optional(),
});

/** Retry a FAILED or CANCELLED run from where it failed (`retry`): a new run, `runId` as for a start. */
const RetryRun = z.strictObject({
  request: RequestId,
  retryOf: RunIdSchema,
  runId: FreshRunId,
  /**
   * A fork of `retryOf` instead of a retry (docs/runs.md#forking-a-run): its point (a task id or an event's sequence
   * number), the inputs it changes, and a deployed workflow (`<id>[@<version>]`) to go on under.
   */
  fork: z
    .strictObject({
      at: z.string().min(1).max(300),
      input: z.record(z.string(), z.unknown()).optional(),
      inputFromStrings: z.boolean().optional(),
      definition: z.string().min(1).max(300).optional(),
    })
    .optional(),
});

/** lf.starts.<user>, the body naming its `request`: a start, or a retry. */
export const StartRequest = z.union([StartWorkflow, RetryRun]);
export type StartRequest = z.infer<typeof StartRequest>;

/** Why a request was refused, in the words and code the embedded store uses (LF_AUTHORITY_REFUSED naming both levels, …). */
const Refusal = {
  accepted: z.boolean(),
  reason: z.string().max(20_000).optional(),
  /** The error code of a refusal (LF_AUTHORITY_REFUSED, LF_WORKFLOW_NOT_DEPLOYED, LF_INPUT_INVALID, …). */
  code: z.string().max(100).optional(),
  /** A refusal for the level: the level it needs and the sender's. */
  need: z.string().max(10).optional(),
  have: z.string().max(10).optional(),
};

/** lf.verdicts.starts.<user>.<request> (core NATS): the run started, or why not. */
export const StartVerdict = z.object({
  ...Refusal,
  runId: z.string().optional(),
  workflowId: z.string().optional(),
  version: z.number().int().optional(),
  status: WorkflowStatus.optional(),
  /** The id had a run already: not started again. */
  existing: z.literal(true).optional(),
});
export type StartVerdict = z.infer<typeof StartVerdict>;

/** lf.deploys.<user>.<request>: a definition's text, parsed and checked by the engine as a file is. */
export const DeployRequest = z.strictObject({
  request: RequestId,
  /** The file it was read from, for the diagnostics (file:line:col). */
  file: z.string().max(1000).optional(),
  text: z.string().max(MAX_DEFINITION_BYTES),
});
export type DeployRequest = z.infer<typeof DeployRequest>;

/** lf.verdicts.deploys.<user>.<request> (core NATS): deployed (or unchanged), or why not. */
export const DeployVerdict = z.object({
  ...Refusal,
  workflowId: z.string().optional(),
  version: z.number().int().optional(),
  hash: z.string().optional(),
  changed: z.boolean().optional(),
});
export type DeployVerdict = z.infer<typeof DeployVerdict>;

/** lf.limits.<user>.<request>: a limits file's text (`limits set`), parsed and checked by the engine as the file is: a deploy's shape. */
export const LimitsRequest = DeployRequest;
export type LimitsRequest = z.infer<typeof LimitsRequest>;

/** lf.verdicts.limits.<user>.<request> (core NATS): stored (the limits as stored), or why not. */
export const LimitsVerdict = z.object({
  ...Refusal,
  limits: z.record(z.string(), z.unknown()).optional(),
});
export type LimitsVerdict = z.infer<typeof LimitsVerdict>;

/** Settled runs one archive request moves at most: its verdict names each (one core NATS message); the client asks again for more. */
export const UPKEEP_ARCHIVE_MAX = 500;
/** Runs left live an archive verdict names, and the length of each reason: the verdict stays one message. */
export const UPKEEP_LEFT_MAX = 100;
export const UPKEEP_REASON_MAX = 500;

/** Archive periods one `archive-list` verdict names at most (months: a century's), so that it is one message (~100 KB). */
export const UPKEEP_PERIODS_MAX = 1200;

/**
 * lf.upkeep.<user>: a person's upkeep verb (docs/users.md#on-nats), done by the engine as the run API does it on the
 * embedded store: `archive` (settled runs older than `olderThanMs`, at most UPKEEP_ARCHIVE_MAX), `restore` (one run),
 * `blob-gc` (bodies no run refers to), `keys-rotate` (a new data key in KV LF_SECRETS) and `archive-list` (what the
 * archive keeps, read from KV LF_ARCHIVE_INDEX, which a person may not read). Run control (L1), the rotation the
 * bridge's, the list a reader's (L2: whoever reads the log).
 */
export const UpkeepRequest = z.discriminatedUnion('verb', [
  z.strictObject({
    request: RequestId,
    verb: z.literal('archive'),
    /** Absent: by each run's retention (docs/retention.md), as `archiveRuns` chooses. */
    olderThanMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    workflowId: z.string().min(1).max(300).optional(),
    batch: z.number().int().min(1).max(10_000).optional(),
  }),
  z.strictObject({ request: RequestId, verb: z.literal('restore'), runId: RunIdSchema }),
  z.strictObject({
    request: RequestId,
    verb: z.literal('blob-gc'),
    /** Absent: the default grace period (PAYLOAD_GC_GRACE_MS). */
    graceMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    dryRun: z.boolean().optional(),
  }),
  z.strictObject({ request: RequestId, verb: z.literal('keys-rotate') }),
  z.strictObject({ request: RequestId, verb: z.literal('archive-list') }),
]);
export type UpkeepRequest = z.infer<typeof UpkeepRequest>;
export type UpkeepVerb = UpkeepRequest['verb'];

/** A run moved to the archive or brought back, as the run API returns it (its attachments stay with the engine). */
const ArchivedRunShape = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: WorkflowStatus,
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  lastSeq: z.number().int(),
  period: z.string(),
  archivedAt: z.string(),
});

/** lf.verdicts.upkeep.<user>.<request> (core NATS): what the verb did, as the run API returns it, or why not. */
export const UpkeepVerdict = z.object({
  ...Refusal,
  archived: z.array(ArchivedRunShape).max(UPKEEP_ARCHIVE_MAX).optional(),
  /** Runs due that stayed live, with why (a data key the engine does not have): the first UPKEEP_LEFT_MAX named. */
  left: z
    .array(z.object({ runId: z.string(), reason: z.string().max(UPKEEP_REASON_MAX) }))
    .max(UPKEEP_LEFT_MAX)
    .optional(),
  /** How many runs stayed live in all (`left` names the first). */
  leftCount: z.number().int().optional(),
  restored: ArchivedRunShape.optional(),
  /**
   * blob gc's report: the counts and bytes whole, the names at most executor/payload-gc.ts's PAYLOAD_GC_LIST_MAX (the
   * reply is one message). The counts and `truncated` are absent from an engine older than them: the lists were whole.
   */
  collected: z
    .object({
      kept: z.number().int(),
      collected: z.array(z.object({ digest: z.string(), size: z.number() })),
      collectedCount: z.number().int().optional(),
      bytes: z.number(),
      young: z.number().int(),
      corrupt: z.array(z.string()),
      corruptCount: z.number().int().optional(),
      truncated: z.boolean().optional(),
    })
    .optional(),
  rotated: z.object({ id: z.string(), previous: z.string().nullable() }).optional(),
  /** `archive list`: the store's ArchivePeriod list, oldest first; the newest UPKEEP_PERIODS_MAX, `periodsTruncated` when older ones were left off. */
  periods: z
    .array(z.object({ period: z.string(), runs: z.number().int(), bytes: z.number(), location: z.string() }))
    .max(UPKEEP_PERIODS_MAX)
    .optional(),
  periodsTruncated: z.literal(true).optional(),
});
export type UpkeepVerdict = z.infer<typeof UpkeepVerdict>;
