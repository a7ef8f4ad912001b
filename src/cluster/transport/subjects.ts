/**
 * The NATS layout of a ledgerflow cluster. Everything an engine must act on arrives on a work-queue stream that every
 * engine consumes through one shared durable consumer, so engines share the work and take over a dead one's.
 *
 *   LF_EVENTS    lf.events.<workflowId>.<runId>          the log (src/store)
 *   LF_INPUTS    lf.inputs.<sender>.<queue>.<runId>      an attempt's outcome or loss, from a worker: <sender> is
 *                                                        the NATS user and <queue> the attempt's, both enforced
 *                                                        by nats.conf (each worker user is given its queues)
 *                lf.inputs.<sender>.<runId>              kicks; outcomes of the attempts engines run themselves
 *                                                        (SUB_WORKFLOW, EMIT) from the engine sender
 *   (no stream)  lf.reports.<sender>.<queue>.<runId>     an attempt's outcome handed straight to an engine (a request
 *                                                        to the queue group `engines`), answered once it is in the
 *                                                        run's log; LF_INPUTS is the worker's fallback (direct-reports.ts)
 *                lf.reports.<sender>.<queue>.<runId>.<engine>   the same for an attempt that engine offered straight to
 *                                                        the worker, and the worker's word that it still runs it
 *   (no stream)  lf.offer.<queue>.<handler>             an attempt offered straight to an idle worker (queue group
 *                                                        w_<queue>); LF_TASKS_<queue> when none takes it (direct-dispatch.ts)
 *   (no stream)  lf.presence.<sender>.<queue>        a worker's handlers on the queue, every few seconds (every engine;
 *                                                        presence.ts); lf.presence.who asks an engine who it heard
 *   (no stream)  lf.asks.<queue>                         does a worker run this attempt without a claim yet? (every worker
 *                                                        of the queue; claim-asks.ts)
 *   LF_TASKS_<queue>  lf.q.<queue>.<handler>             task attempts for workers: one stream per queue, created
 *                                                        by the engines when they first hand one out (task-queues.ts)
 *                lf.q.<queue>.<handler>.p<NN>            the same for runs of priority NN other than the default
 *                                                        50: a level of its own, pulled highest first (worker-pull.ts)
 *   (no stream)  lf.levels.<queue>.<handler>.p<NN>      engines' word to the queue's workers that level NN holds
 *                                                        attempts (no body; only engines may publish it)
 *   LF_TIMERS    lf.timers.<runId>                       durable timers (nak'ed until due)
 *   LF_APPROVALS lf.approvals.<runId>.<taskId>.<user>    approvals; <user>: the NATS user, enforced by nats.conf
 *   LF_SIGNALS   lf.signals.<sender>.<runId>             signals for WAITs; <sender>: the NATS user, as above
 *   LF_CONTROL   lf.control.<sender>.<runId>             run control; <sender>: the NATS user (people, not workers)
 *   LF_REQUESTS  lf.starts.<sender>                      a person's start (or retry) and deploy; <sender> is the NATS
 *                lf.deploys.<sender>                     user, enforced by nats.conf; limits (limits set) and upkeep
 *                lf.limits.<sender>                      (archive, restore, blob gc, keys rotate); the request's id in
 *                lf.upkeep.<sender>                      the body. One subject per sender and kind, so that the stream
 *                                                        bounds each sender's waiting requests. The engines judge its
 *                                                        level (requests.ts) and answer on
 *                                                        lf.verdicts.starts|deploys|limits|upkeep.<sender>.<request>
 *   LF_UPLOADS   lf.uploads.<sender>.<request>.<sha256>  a person's large start input fields, uploaded in chunks before
 *                                                        the request that refers to them (uploads.ts); read back by the
 *                                                        engine that takes the request, then purged
 *   LF_TRIGGERS  lf.triggers.<eventType>                 business events that start runs
 *   LF_DLQ       lf.dlq.<kind>                           what engines refused or gave up on, kept with the reason
 *   LF_DLQ_WORKERS lf.dlq.tasks.<user>                   task attempts a worker gave up on; <user> is the worker's
 *                                                        NATS user, enforced by nats.conf permissions (a worker may
 *                                                        write no other dead letter: see dead-letter-queue.ts)
 *   KV LF_DEFINITIONS                                    deployed definitions
 *   KV LF_ATTEMPTS                                       task attempts workers took (attempts.ts)
 *
 * Worker consumers (w_<queue>_<handler>) are created by the engines when they first hand out an attempt of that pair
 * (task-queues.ts): the `worker` user of nats.conf may pull from consumers, not create them.
 *
 * Why a stream per queue: NATS permissions match whole subject tokens, and every JetStream subject a worker uses names
 * the stream as a token of its own ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, $JS.ACK.<stream>.…), so nats.conf
 * can grant a worker user exactly its queues' streams; with one stream it could only grant all of it.
 */
import { DEFAULT_PRIORITY } from '../../definition/index.js';

export const STREAMS = {
  inputs: { name: 'LF_INPUTS', subjects: ['lf.inputs.>'] },
  timers: { name: 'LF_TIMERS', subjects: ['lf.timers.>'] },
  approvals: { name: 'LF_APPROVALS', subjects: ['lf.approvals.>'] },
  triggers: { name: 'LF_TRIGGERS', subjects: ['lf.triggers.>'] },
  signals: { name: 'LF_SIGNALS', subjects: ['lf.signals.>'] },
  /**
   * Its own stream, not a subject added to LF_INPUTS: an older version's cluster gets it from ensureCluster like any
   * missing stream, and run control stays apart from what workers may publish.
   */
  control: { name: 'LF_CONTROL', subjects: ['lf.control.>'] },
  /** A person's starts, retries, deploys, limits and upkeep (requests.ts): a stream of its own, as LF_CONTROL, and bounded. */
  requests: { name: 'LF_REQUESTS', subjects: ['lf.starts.*', 'lf.deploys.*', 'lf.limits.*', 'lf.upkeep.*'] },
  /**
   * What engines write (lf.dlq.<kind>; plain lf.dlq.tasks holds workers' letters from before they named themselves).
   * Older streams took lf.dlq.>, workers' letters included: an engine narrows them.
   */
  dlq: { name: 'LF_DLQ', subjects: ['lf.dlq.*'] },
  /**
   * What workers write, in a stream of its own (one worker's flood pushed every engine's letter out of the shared
   * LF_DLQ), bounded per worker user: a flood drops that worker's oldest letters only.
   */
  workerDlq: { name: 'LF_DLQ_WORKERS', subjects: ['lf.dlq.tasks.*'] },
} as const;

/** Every queue's stream is named this and the queue (nats.conf grants a worker user `LF_TASKS_<queue>` per queue). */
export const TASK_STREAM_PREFIX = 'LF_TASKS_';

/** Queue `queue`'s work-queue stream (lf.q.…, not the older single stream's lf.tasks.>: see LEGACY_TASKS). */
export function taskStream(queue: string): { name: string; subjects: string[] } {
  return { name: `${TASK_STREAM_PREFIX}${token(queue)}`, subjects: [`lf.q.${token(queue)}.*`] };
}

/** The queue and handler of a task subject (lf.q.<queue>.<handler>, or a priority level's lf.q.<queue>.<handler>.p<NN>), or null. */
export function taskSubjectParts(subject: string): { queue: string; handler: string; priority?: number } | null {
  const m = /^lf\.q\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_~+-]+)(?:\.p(\d\d))?$/.exec(subject);
  if (!m) return null;
  return { queue: m[1]!, handler: m[2]!, ...(m[3] !== undefined ? { priority: Number(m[3]) } : {}) };
}

/**
 * The subjects of a queue's priority levels (lf.q.<queue>.<handler>.p<NN>), added to its stream by the first engine
 * that queues an attempt of a non-default priority (setup.ts ensureTaskLevels).
 */
export function taskLevelSubjects(queue: string): string {
  return `lf.q.${token(queue)}.*.*`;
}

/** The default priority, whose attempts stay on lf.q.<queue>.<handler>: a cluster where nobody sets one works as before levels. */
export const DEFAULT_LEVEL = DEFAULT_PRIORITY;

/** A priority as the two digits of its level's subject and consumer (0..99). */
function level(priority: number): string {
  if (!Number.isInteger(priority) || priority < 0 || priority > 99)
    throw new Error(`priority ${priority} is not a whole number from 0 to 99`);
  return String(priority).padStart(2, '0');
}

/** The one task stream of versions before per-queue streams; engines move what is left in it (legacy-tasks.ts). */
export const LEGACY_TASKS = { name: 'LF_TASKS', subjects: ['lf.tasks.>'] } as const;

export const DEFINITIONS_BUCKET = 'LF_DEFINITIONS';

/** Durable consumers shared by all engines. */
export const ENGINE_CONSUMERS = {
  inputs: 'engines',
  timers: 'timers',
  approvals: 'approvals',
  triggers: 'triggers',
  signals: 'signals',
  control: 'control',
  requests: 'requests',
} as const;

/** Subject tokens may not hold '.', '*', '>' or whitespace. */
export function token(value: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(value))
    throw new Error(`"${value}" cannot be a NATS subject token (use letters, digits, _ and -)`);
  return value;
}

/**
 * Skill routing (docs/limits.md#skills): the attempts of a task that `requires:` skills wait on a handler key of
 * their own, `<handler>~<skill>+<skill>` (sorted), so that only a worker with every one of them pulls them: its own
 * subject lf.q.<queue>.<key> and consumer w_<queue>_<key>, under the queue's stream and nats.conf lines as they are.
 * `~` and `+` are in no handler or skill name, so a key is never a handler's.
 */
export function skillKey(handler: string, skills: readonly string[] | undefined): string {
  if (!skills || skills.length === 0) return handler;
  return `${token(handler)}~${[...skills].sort().map(token).join('+')}`;
}

/** A handler key's handler and skills (none for a plain handler); null when it is not one. */
export function splitSkillKey(key: string): { handler: string; skills: string[] } | null {
  const m = /^([A-Za-z0-9_-]+)(?:~([A-Za-z0-9_+-]+))?$/.exec(key);
  if (!m) return null;
  return { handler: m[1]!, skills: m[2] ? m[2].split('+').filter((s) => s.length > 0) : [] };
}

/** A handler, or a handler key naming skills (skillKey): a subject token or a consumer name's part. */
function keyToken(value: string): string {
  if (splitSkillKey(value) === null)
    throw new Error(`"${value}" cannot be a NATS subject token (use letters, digits, _ and -)`);
  return value;
}

export const subjects = {
  /** A kick, or an engine's report (`sender`: the NATS user publishing; nats.conf lets each user publish under its own name only). */
  input: (sender: string, runId: string) => `lf.inputs.${token(sender)}.${token(runId)}`,
  /**
   * A worker's report of an attempt of `queue` (outcome or loss). nats.conf gives each worker user
   * `lf.inputs.<user>.<queue>.*` for its queues, and the engine checks `queue` is the attempt's own.
   */
  report: (sender: string, queue: string, runId: string) =>
    `lf.inputs.${token(sender)}.${token(queue)}.${token(runId)}`,
  /**
   * The same report handed straight to an engine (a request to the engines' queue group, no stream), answered once
   * the outcome is in the run's log. nats.conf gives each worker user `lf.reports.<user>.<queue>.*`; no subscribe.
   */
  directReport: (sender: string, queue: string, runId: string, engine?: string) =>
    `lf.reports.${token(sender)}.${token(queue)}.${token(runId)}${engine ? `.${token(engine)}` : ''}`,
  /**
   * An attempt offered straight to an idle worker (a request to the queue group w_<queue>; direct-dispatch.ts).
   * nats.conf lets a worker user subscribe to its queues' offers only in that group: it sees no more than it pulls.
   */
  offer: (queue: string, handler: string) => `lf.offer.${token(queue)}.${keyToken(handler)}`,
  /** A worker's presence on a queue (`sender`: its NATS user, enforced by nats.conf as for its reports). */
  presence: (sender: string, queue: string) => `lf.presence.${token(sender)}.${token(queue)}`,
  presenceAll: 'lf.presence.*.*',
  /** Request to the queue group `engines`: the workers an engine heard lately (PresenceReport). */
  presenceWho: 'lf.presence.who',
  /** Core NATS, every worker of `queue`: does another run this maybe-offered attempt unclaimed? (claim-asks.ts) */
  ask: (queue: string) => `lf.asks.${token(queue)}`,
  /** A task attempt, on its queue's own stream LF_TASKS_<queue> (taskStream). */
  task: (queue: string, handler: string) => `lf.q.${token(queue)}.${keyToken(handler)}`,
  /** An attempt of a run of `priority`: the default level is lf.q.<queue>.<handler> (as before levels), any other its own subject. */
  taskAt: (queue: string, handler: string, priority: number) =>
    `lf.q.${token(queue)}.${keyToken(handler)}${priority === DEFAULT_LEVEL ? '' : `.p${level(priority)}`}`,
  /** Core NATS, no body: an engine queued an attempt on that level (workers of the queue subscribe; only engines may publish). */
  levelNotice: (queue: string, handler: string, priority: number) =>
    `lf.levels.${token(queue)}.${keyToken(handler)}.p${level(priority)}`,
  /** What workers of `queue` running `handler` subscribe to for level notices. */
  levelNotices: (queue: string, handler: string) => `lf.levels.${token(queue)}.${keyToken(handler)}.*`,
  timer: (runId: string) => `lf.timers.${token(runId)}`,
  approval: (runId: string, taskId: string, user: string) =>
    `lf.approvals.${token(runId)}.${token(taskId)}.${token(user)}`,
  trigger: (eventType: string) => `lf.triggers.${token(eventType)}`,
  /** `sender`: the NATS user publishing (nats.conf lets each user publish signals under its own name only). */
  signal: (sender: string, runId: string) => `lf.signals.${token(sender)}.${token(runId)}`,
  /** Core NATS (no stream): the engine's verdict on a signal, for the sender waiting on it. */
  signalVerdict: (sender: string, runId: string) => `lf.verdicts.signals.${token(sender)}.${token(runId)}`,
  /** `sender`: the NATS user publishing (nats.conf lets the people users publish run control under their own name only). */
  control: (sender: string, runId: string) => `lf.control.${token(sender)}.${token(runId)}`,
  /** Core NATS (no stream): the engine's verdict on a pause or resume, for the sender waiting on it. */
  controlVerdict: (sender: string, runId: string) => `lf.verdicts.control.${token(sender)}.${token(runId)}`,
  /** A person's start or retry (request id in the body): one subject per sender, which LF_REQUESTS bounds. */
  start: (sender: string) => `lf.starts.${token(sender)}`,
  /** Core NATS (no stream): the engine's verdict on a start, for the sender waiting on it. */
  startVerdict: (sender: string, request: string) => `lf.verdicts.starts.${token(sender)}.${token(request)}`,
  /** A person's deploy, as `start`. */
  deploy: (sender: string) => `lf.deploys.${token(sender)}`,
  deployVerdict: (sender: string, request: string) => `lf.verdicts.deploys.${token(sender)}.${token(request)}`,
  /** A person's `limits set`, as `start`. */
  limits: (sender: string) => `lf.limits.${token(sender)}`,
  limitsVerdict: (sender: string, request: string) => `lf.verdicts.limits.${token(sender)}.${token(request)}`,
  /** A person's upkeep verb (archive, restore, blob gc, keys rotate), as `start`. */
  upkeep: (sender: string) => `lf.upkeep.${token(sender)}`,
  upkeepVerdict: (sender: string, request: string) => `lf.verdicts.upkeep.${token(sender)}.${token(request)}`,
  /** Engines' dead letters (only users with the engine's rights may publish there). */
  dlq: (kind: string) => `lf.dlq.${token(kind)}`,
  /** A worker's dead letters: under its own NATS user, the only dead-letter subject nats.conf lets it publish. */
  workerDlq: (user: string) => `lf.dlq.tasks.${token(user)}`,
  /** Core NATS (no stream): the engine's verdict on an approval, for the approver waiting on it. */
  approvalVerdict: (runId: string, taskId: string, user: string) =>
    `lf.verdicts.approvals.${token(runId)}.${token(taskId)}.${token(user)}`,
  /** Core NATS (no stream): the engine's verdict on a trigger event, for the producer waiting on it. */
  triggerVerdict: (eventId: string) => `lf.verdicts.triggers.${token(eventId)}`,
};

/** The queue group a queue's workers take offers in (nats.conf lets a worker user subscribe to lf.offer.<queue>.> only in it). */
export function offerGroup(queue: string): string {
  return `w_${token(queue)}`;
}

/** A worker consumer per (queue, handler): work-queue consumers may not overlap; a worker takes only what it runs. */
export function workerConsumerName(queue: string, handler: string): string {
  return `w_${token(queue)}_${keyToken(handler)}`;
}

/**
 * The consumer of a priority level: the default level's is w_<queue>_<handler>; any other p<NN>_<queue>_<handler>,
 * which no handler name can make (those start w_), so a handler called `x_p70` never meets level 70 of `x`.
 */
export function levelConsumerName(queue: string, handler: string, priority: number): string {
  return priority === DEFAULT_LEVEL
    ? workerConsumerName(queue, handler)
    : `p${level(priority)}_${token(queue)}_${keyToken(handler)}`;
}

/** The level a level notice's subject names (lf.levels.<queue>.<handler>.p<NN>), or null. */
export function noticeLevel(subject: string): number | null {
  const m = /\.p(\d\d)$/.exec(subject);
  return m ? Number(m[1]) : null;
}

/** The queue a task's attempts go to when it names none (the runtime's, which computes each attempt's queue). */
export { DEFAULT_QUEUE } from '../../runtime/index.js';

/** The sender an engine publishes a child run's outcome (or an EMIT's) to the parent under: `lf.inputs.engine.<runId>`. */
export const ENGINE_SENDER = 'engine';

/** Who a connection publishes inputs as when its URL names no user (a server without users, or its no_auth_user). */
export const ANONYMOUS_SENDER = 'anonymous';
