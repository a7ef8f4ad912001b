/**
 * Messages between engines, workers and clients: zod schemas checked on every receipt (the boundary). What
 * clients send to steer runs and the engine's verdicts on it are in run-verdicts.ts.
 */
import { z } from 'zod';
import {
  nestsDeeperThan,
  RunIdSchema,
  TaskCompletedData,
  TaskFailedData,
  TimerKind,
  tooDeepText,
} from '../../events/index.js';
import { inboxPrefixFor, parseServers, type WrittenCommit } from '../../store/index.js';
import { MAX_REQUIRED_SKILLS } from '../../definition/index.js';

const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected an ISO 8601 time' });

/** The token an engine hands out with an attempt (attempt-tokens.ts): the proof that an outcome comes from its worker. */
const attemptToken = z.string().min(1).max(200);

/** Which attempt of which instance (loop iteration, MAP item) a report is about, and which run of it (the task message's `restart`, 0 for the first). */
const attemptRun = {
  task: z.string().min(1),
  attempt: z.number().int().positive(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  restart: z.number().int().nonnegative(),
};

/** Who reported it is the subject's sender token, never the body: fields naming a reporter are not taken from a message. */
const notFromSender = { by: true, unauthenticated: true } as const;

/**
 * On lf.inputs.<sender>.<queue>.<runId> (an attempt's report: its outcome or its loss; `<queue>` the attempt's, which
 * nats.conf gives each worker user by name) or lf.inputs.<sender>.<runId> (a kick; and outcomes of the attempts the
 * engines run themselves, SUB_WORKFLOW and EMIT, from the `engine` sender). Workers may publish here, so nothing only
 * an engine or a person may say comes this way (no approvals, run control or timer firings), and an outcome or a loss
 * counts only with its attempt's token. `<sender>` is recorded as who reported it. `time` is the worker's clock, kept
 * for the record only: the engine stamps what it records with its own.
 */
export const InputMessage = z.discriminatedUnion('type', [
  // `reused` is the step's own word (a retry's reused output), never a worker's.
  z.object({
    type: z.literal('task.completed'),
    runId: RunIdSchema,
    time,
    token: attemptToken,
    // An output nested past what a payload may (events/json-depth.ts) is refused with the message: recorded, it would
    // leave a run that no read can show. A worker's own runHandler fails such an attempt before it reports.
    data: TaskCompletedData.omit({ ...notFromSender, reused: true }).refine((d) => !nestsDeeperThan(d.output), {
      message: tooDeepText('the output'),
      path: ['output'],
    }),
  }),
  z.object({
    type: z.literal('task.failed'),
    runId: RunIdSchema,
    time,
    token: attemptToken,
    data: TaskFailedData.omit(notFromSender),
  }),
  /**
   * A worker was handed an attempt the attempt ledger says is not its to run: claimed by another that never finished
   * it, finished by another, or aborted. The ledger is any worker's word, so the engine's log decides (inputs.ts): an
   * attempt whose outcome is recorded or no longer wanted is left alone, any other restarted or, past the cap, failed.
   */
  z.object({
    type: z.literal('task.lost'),
    runId: RunIdSchema,
    time,
    token: attemptToken,
    data: z.object({
      ...attemptRun,
      /** The worker that had claimed it, as the attempt ledger names it. */
      lost: z.string().max(200).optional(),
      /**
       * What the ledger said: `taken` (claimed, unfinished), the outcome another worker marked
       * (`task.completed`, `task.failed`) or `aborted` (settled by an engine). Absent: `taken`.
       */
      ledger: z.enum(['taken', 'task.completed', 'task.failed', 'aborted']).optional(),
    }),
  }),
  /**
   * A worker stopped cleanly gives back the run it was running (give-back.ts): recorded as task.released and restarted,
   * not a loss. `claimToken`: a restarted run's, required, so a worker handed an earlier run cannot give back this one.
   */
  z.object({
    type: z.literal('task.released'),
    runId: RunIdSchema,
    time,
    token: attemptToken,
    claimToken: attemptToken.optional(),
    data: z.object({ ...attemptRun, worker: z.string().max(200).optional() }), // worker: its ledger name (`lost`)
  }),
  z.object({
    type: z.literal('kick'),
    runId: RunIdSchema,
    /** Sent by the start that recorded the run just now: the engine looks for no snapshot of it (it has none). */
    started: z.literal(true).optional(),
    /**
     * With `started`: the run's first commit as the start appended it (its stream sequence on LF_EVENTS, its subject,
     * the commit as stored), folded by the engine instead of read back. Taken only from a sender that may write the
     * log (the engine user; anyone on a server without users) and checked as a read checks a commit; else the run is
     * read as without it.
     */
    first: z
      .object({ position: z.number().int().positive(), subject: z.string().max(512), commit: z.unknown() })
      .optional(),
  }),
]);
export type InputMessage = z.infer<typeof InputMessage>;
/** An attempt's outcome, as a worker reports it (on lf.inputs or, handed straight to an engine, on lf.reports). */
export type OutcomeMessage = Extract<InputMessage, { type: 'task.completed' | 'task.failed' }>;
/** A run of an attempt given back by its worker's clean stop (on lf.inputs, or committed by its own engine). */
export type ReleaseMessage = Extract<InputMessage, { type: 'task.released' }>;

/**
 * A worker's word, while it runs an attempt offered straight to it, that it still does (every third of the task ack
 * wait, on lf.reports.<sender>.<queue>.<runId>.<engine>): the engine queues an attempt it stops hearing of on
 * LF_TASKS_<queue>, where its worker's ledger claim says what became of it. Counted only with the attempt's token.
 */
export const HeldMessage = z.object({
  type: z.literal('task.held'),
  runId: RunIdSchema,
  token: attemptToken,
  /** The run's claim token, for a restarted run that was handed out with one (TaskMessage.claimToken). */
  claimToken: attemptToken.optional(),
  data: z.object(attemptRun),
});
export type HeldMessage = z.infer<typeof HeldMessage>;

/** A worker's answer to an attempt offered to it (lf.offer.<queue>.<handler>): `taken`, it is the worker's now; else the engine queues it. */
export const OfferAnswer = z.object({ taken: z.boolean() });
export type OfferAnswer = z.infer<typeof OfferAnswer>;

/**
 * On lf.asks.<queue> (core NATS request, every worker of the queue hears it; claim-asks.ts): does a worker run,
 * without a claim yet, the attempt whose ledger key has this digest (askDigest: the key itself is not sent)?
 */
export const AskMessage = z.object({ h: z.string().regex(/^[0-9a-f]{32}$/) });
export type AskMessage = z.infer<typeof AskMessage>;

/** A worker's answer to an ask: it runs the attempt, and its claim is in the attempt ledger now. Only a worker that does answers. */
export const AskAnswer = z.object({ held: z.literal(true) });
export type AskAnswer = z.infer<typeof AskAnswer>;

/**
 * On lf.presence.<sender>.<queue> (core NATS, every engine; presence.ts): the handlers a worker serves on the queue,
 * every `every` ms while it runs, and `gone` once as it stops.
 */
export const PresenceMessage = z.object({
  worker: z.string().min(1).max(200),
  handlers: z.array(z.string().min(1).max(128)).max(500),
  every: z.number().int().min(100).max(3_600_000),
  gone: z.literal(true).optional(),
  /** Its skills (`worker --skills`, docs/limits.md#skills): engines let an attempt that requires skills start only when a worker has them all. */
  skills: z.array(z.string().min(1).max(64)).max(64).optional(),
  /** Attempts it runs now, and how many it runs at most per handler: the agents view's load. */
  inFlight: z.number().int().nonnegative().max(1_000_000).optional(),
  concurrency: z.number().int().positive().max(1_000_000).optional(),
});
export type PresenceMessage = z.infer<typeof PresenceMessage>;

/** An engine's answer on lf.presence.who: the workers it heard announce lately, and how long it has listened. */
export const PresenceReport = z.object({
  listeningMs: z.number().int().nonnegative(),
  workers: z.array(
    z.object({
      user: z.string(),
      queue: z.string(),
      worker: z.string(),
      handlers: z.array(z.string()),
      seenMsAgo: z.number().int().nonnegative(),
      skills: z.array(z.string()).optional(),
      inFlight: z.number().int().nonnegative().optional(),
      concurrency: z.number().int().positive().optional(),
      utilization: z.object({ m1: z.number().min(0).max(1), m15: z.number().min(0).max(1) }).optional(),
      level: z.string().optional(), // its NATS user's level, where the engine was given a users file
    }),
  ),
});
export type PresenceReport = z.infer<typeof PresenceReport>;

/**
 * An engine's answer to an outcome handed to it on lf.reports.<sender>.<queue>.<runId>. `recorded`: the outcome is in
 * the run's log (or the run had one already, or no longer wants it): the worker acks the attempt. Not recorded
 * (`reason` says why): the worker publishes the same outcome on LF_INPUTS, the durable path.
 */
export const ReportAnswer = z.object({ recorded: z.boolean(), reason: z.string().max(2000).optional() });
export type ReportAnswer = z.infer<typeof ReportAnswer>;

/** On lf.q.<queue>.<handler> (stream LF_TASKS_<queue>): one attempt of a task, everything a worker needs to run it. */
export const TaskMessage = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  taskId: z.string(),
  /** The loop iteration / MAP item the attempt runs for (compiler/instances.ts); absent for a plain task. Echoed in the outcome. */
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  attempt: z.number().int().positive(),
  /** Which run of the attempt: n after its n-th restart (its worker was lost); absent for the first. */
  restart: z.number().int().positive().optional(),
  handler: z.string(),
  input: z.record(z.string(), z.unknown()),
  /** The run's input, the handler's `ctx.workflowInput`; absent in messages of engines before it. */
  workflowInput: z.record(z.string(), z.unknown()).optional(),
  /** Absolute deadline of the attempt (its timeout), if it has one. */
  deadline: time.optional(),
  /** Report it with the outcome: only the worker handed this attempt has it. */
  token: attemptToken,
  /**
   * A restarted run's own token for its ledger key and its worker's word that it still runs it (attempt-tokens.ts
   * claimTokenFor), so a worker handed an earlier run cannot claim or keep alive this one. Absent for the first run.
   */
  claimToken: attemptToken.optional(),
  /**
   * On an attempt offered straight to a worker (direct-dispatch.ts): the engine holding it, to which the worker reports
   * it (lf.reports.<sender>.<queue>.<runId>.<reportTo>) and says, while it runs it, that it still does.
   */
  reportTo: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /**
   * On an attempt queued again that may have been offered to a worker before (a reconcile's, a lapsed offer's): that
   * worker claims an offered attempt only once it outlives a grace period, so the worker this copy goes to asks first
   * whether one runs it unclaimed (claim-asks.ts) rather than claiming it.
   */
  redispatch: z.literal(true).optional(),
  /** Where to write the output as YAML (`output_to`, resolved by the engine), relative to the worker's output root (and never outside it). */
  outputTo: z.string().optional(),
  /** The workflow's `payloads.inline_limit` (bytes), when it sets one: a larger output goes to the LF_BLOBS bucket. */
  inlineLimit: z.number().int().positive().optional(),
  /**
   * A COMMAND task's attempt (on lf.q.<queue>._command): argv (no shell), the working directory (relative to the
   * worker's) and the variables added to the environment. The task's input goes to the program's stdin as JSON.
   */
  command: z
    .object({
      argv: z.array(z.string()).min(1),
      cwd: z.string().optional(),
      env: z.record(z.string(), z.string()),
    })
    .optional(),
  /**
   * Where the input and command hold `${secrets.NAME}` (runtime/effects.ts StartAttempt.secrets): the worker puts
   * the values in from KV LF_SECRETS when it runs the attempt. The message itself carries references only.
   */
  secrets: z
    .array(
      z.object({
        path: z
          .array(z.union([z.string(), z.number().int().nonnegative()]))
          .min(1)
          .max(64),
        parts: z
          .array(z.union([z.string(), z.object({ secret: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/) })]))
          .max(1000),
      }),
    )
    .max(1000)
    .optional(),
  task: z.object({
    name: z.string(),
    type: z.string(),
    output: z.object({ names: z.array(z.string()), values: z.record(z.string(), z.unknown()) }),
    assignedTo: z.string().optional(),
    agentLevel: z.string().optional(),
    /** `requires:` (sorted): the skills a worker needs for it; its subject's handler token names them (subjects.ts skillKey). */
    requires: z.array(z.string()).max(MAX_REQUIRED_SKILLS).optional(),
    /** Each attempt's `timeout:` (ms): what an agent's task file says it has (`deadline` is when this one ends). */
    timeoutMs: z.number().int().positive().optional(),
  }),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

/** On lf.timers.<runId>: fire `timer.fired` for this timer at dueAt. */
export const TimerMessage = z.object({
  runId: RunIdSchema,
  task: z.string(),
  kind: TimerKind,
  attempt: z.number().int().positive(),
  dueAt: time,
  /** The instance the timer belongs to (loop iteration, MAP item), when not the task's only one. */
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
});
export type TimerMessage = z.infer<typeof TimerMessage>;

/** On lf.approvals.<runId>.<taskId>.<user>: who decides is the subject's last token, not anything in the body. */
export const ApprovalMessage = z.object({
  decision: z.enum(['approved', 'rejected']),
  comment: z.string().max(2000).optional(),
});
export type ApprovalMessage = z.infer<typeof ApprovalMessage>;

/**
 * On lf.dlq.<kind>, or lf.dlq.tasks.<user> when a worker wrote it: a message an engine or worker gave up on, with the
 * reason. Only one an engine wrote is ever replayed (dead-letter-rules.ts). It refers to the message (`source`, `size`,
 * `sha256`) and keeps a bounded part of it (dead-letters.ts). Older dead letters have only `reason` and `raw`.
 */
export const DeadLetterMessage = z.object({
  reason: z.string(),
  /** When it was given up on. */
  at: time.optional(),
  /** lf.dlq.triggers: the admission stage that refused the event, and the problems found (at most 20). */
  stage: z.string().optional(),
  problems: z.array(z.string()).optional(),
  /** What the message was about, when known: run, task, approver. */
  runId: z.string().optional(),
  taskId: z.string().optional(),
  by: z.string().optional(),
  /** Where the message was: its stream, stream sequence and subject, and how many times it had been delivered. */
  source: z
    .object({
      stream: z.string(),
      seq: z.number().int().positive(),
      subject: z.string(),
      deliveries: z.number().int().positive(),
    })
    .optional(),
  /** The body's size in bytes and its sha256 (hex), whether or not it is kept. */
  size: z.number().int().nonnegative().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** The whole body as text, exactly as received: kept when at most 64 KiB of valid UTF-8. */
  raw: z.string().optional(),
  /** Otherwise its first 4 KiB as text; `truncated` when the body was longer. */
  excerpt: z.string().optional(),
  truncated: z.boolean().optional(),
});
export type DeadLetterMessage = z.infer<typeof DeadLetterMessage>;

export function encode(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The largest first commit (its JSON) a start's kick carries: a larger one (a long definition) the engine reads. */
const CARRIED_COMMIT_BYTES = 32 * 1024;

/**
 * A kick's body; a start's with the run's first commit as its store appended it (`first`: store/jetstream/
 * handed-commits.ts), spliced in as the JSON it was appended as rather than parsed and written again.
 */
export function kickBody(kick: InputMessage, first: WrittenCommit | undefined): Uint8Array {
  if (!first || first.json.length > CARRIED_COMMIT_BYTES) return encode(kick);
  const carried = `"first":{"position":${first.position},"subject":${JSON.stringify(first.subject)},"commit":${first.json}}`;
  return Buffer.from(`${JSON.stringify(kick).slice(0, -1)},${carried}}`, 'utf8');
}

export function decode(data: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(data));
}

/** A body as JSON, or undefined when it is not JSON (then its schema refuses it, with the others). */
export function decodeOrUndefined(data: Uint8Array): unknown {
  try {
    return decode(data);
  } catch {
    return undefined;
  }
}

/**
 * nats://user:pass@host:port → connect options (nats.js wants the credentials apart). A comma-separated list is a
 * cluster. A user's replies come under its own inbox prefix (store/jetstream/inbox.ts), the one nats.conf allows.
 */
export function credentials(url: string): {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  inboxPrefix?: string;
} {
  const parsed = parseServers(url);
  const inboxPrefix = inboxPrefixFor(parsed.user);
  return inboxPrefix ? { ...parsed, inboxPrefix } : parsed;
}

/**
 * On lf.timers.<runId>.gate: an attempt of a gated task waiting for its gate. `gen`: which copy (a long wait is
 * published afresh); `since`: when it began to wait (a fresh copy carries its first's time; the first, its own).
 */
export const GateWaitMessage = z.object({
  runId: z.string().min(1).max(128),
  task: z.string().min(1).max(256),
  attempt: z.number().int().positive(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  gate: z.literal(true),
  gen: z.number().int().nonnegative().optional(),
  since: z.number().nonnegative().optional(),
  /** Its run records the wait's task.delayed already (an open breaker held it): not again. */
  delayed: z.literal(true).optional(),
});
export type GateWaitMessage = z.infer<typeof GateWaitMessage>;
