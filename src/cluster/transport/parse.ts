/**
 * Every message an engine (or a worker) takes from a stream, read one way: its subject's tokens, its body as JSON,
 * the body's schema, the run id, and what subject and body must agree on. Out comes the typed message, or the reason
 * it is dead-lettered, always as `malformed <what> on <subject>: <why>`. The handlers then only route.
 *
 * Pure: it reads a subject and bytes, never a NATS object, so every refusal is testable without a server
 * (test/cluster/parse.test.ts). A trigger event is only decoded here: the triggers module admits it, as for `emit`.
 */
import type { z } from 'zod';
import { RunIdSchema } from '../../events/index.js';
import type { RunInput } from '../../runtime/index.js';
import type { DeadLetterDetails } from './dead-letters.js';
import {
  ApprovalMessage,
  decodeOrUndefined,
  HeldMessage,
  InputMessage,
  TaskMessage,
  TimerMessage,
  type OutcomeMessage,
} from './messages.js';
import { ControlMessage, SignalMessage } from './run-verdicts.js';
import { ENGINE_SENDER, subjects } from './subjects.js';
import { DeployRequest, LimitsRequest, REQUEST_ID, StartRequest, UpkeepRequest } from './requests.js';

/** A message as taken from a stream, as plain data. */
export interface RawMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}

/** The plain data of a message taken from a stream (a NATS JsMsg has these among its methods and state): what parseInbound reads. */
export function rawOf(m: RawMessage): RawMessage {
  return { subject: m.subject, data: m.data };
}

/**
 * What each kind of message says once read. `verdictTo`: the core NATS subject its sender waits on for the engine's
 * verdict (null when its ids cannot make one: then nobody can be listening).
 */
export interface Inbound {
  approval: {
    runId: string;
    taskId: string;
    user: string;
    decision: ApprovalMessage['decision'];
    comment?: string;
    verdictTo: string | null;
  };
  signal: { runId: string; sender: string; name: string; data?: unknown; verdictTo: string | null };
  control: {
    runId: string;
    sender: string;
    action: ControlMessage['action'];
    reason?: string;
    verdictTo: string | null;
  };
  /** `queue`: the attempt's queue, on a worker's report (lf.inputs.<sender>.<queue>.<runId>); absent on a kick or an engine's report. */
  input: { sender: string; queue?: string; input: InputMessage };
  /** A worker's outcome of an attempt of `queue`, handed straight to an engine (lf.reports.<sender>.<queue>.<runId>): never a loss or a kick. */
  report: { sender: string; queue: string; input: OutcomeMessage | HeldMessage; engine?: string };
  timer: TimerMessage;
  /** The event as received (undefined when not JSON): admitEvent judges it. */
  trigger: { event: unknown; verdictTo: string | null };
  task: TaskMessage;
  /** A person's start or retry (lf.starts.<sender>, the request id in the body; before, lf.starts.<sender>.<request>); `verdictTo` as above. */
  start: { sender: string; request: string; body: StartRequest; verdictTo: string | null };
  /** A person's deploy (lf.deploys.<sender>). */
  deploy: { sender: string; request: string; body: DeployRequest; verdictTo: string | null };
  /** A person's `limits set` (lf.limits.<sender>). */
  limits: { sender: string; request: string; body: LimitsRequest; verdictTo: string | null };
  /** A person's archive, restore, blob gc or keys rotate (lf.upkeep.<sender>). */
  upkeep: { sender: string; request: string; body: UpkeepRequest; verdictTo: string | null };
}
export type InboundKind = keyof Inbound;

/**
 * A message that is dead-lettered unprocessed. `misdirected`: it may be well formed, but its sender may not send it
 * there (a pause on lf.inputs, a worker's report without its queue): counted as a refusal, not as noise.
 */
export interface Malformed {
  ok: false;
  reason: string;
  details: DeadLetterDetails;
  misdirected: boolean;
}
export type Parsed<K extends InboundKind> = { ok: true; value: Inbound[K] } | Malformed;

/** What each kind is called in a reason. */
const WHAT: Record<InboundKind, string> = {
  approval: 'approval',
  signal: 'signal',
  control: 'run control',
  input: 'input',
  report: 'report',
  timer: 'timer',
  trigger: 'trigger event',
  task: 'task attempt',
  start: 'start request',
  deploy: 'deploy request',
  limits: 'limits request',
  upkeep: 'upkeep request',
};

const SUBJECT_FORM = {
  approval: 'an approval is published on lf.approvals.<runId>.<taskId>.<user>',
  signal: 'a signal is published on lf.signals.<sender>.<runId>',
  control: 'run control is published on lf.control.<sender>.<runId>',
  input:
    "inputs are published on lf.inputs.<sender>.<queue>.<runId> (a worker's report of an attempt of <queue>) or lf.inputs.<sender>.<runId> (a kick), the sender being the NATS user publishing",
  start: 'a start is published on lf.starts.<sender>, its body naming its `request` (8-64 of A-Z a-z 0-9 _ -)',
  deploy: 'a deploy is published on lf.deploys.<sender>, its body naming its `request` (8-64 of A-Z a-z 0-9 _ -)',
  limits: 'limits are published on lf.limits.<sender>, its body naming its `request` (8-64 of A-Z a-z 0-9 _ -)',
  upkeep:
    'an upkeep request (archive, restore, blob-gc, keys-rotate, archive-list) is published on lf.upkeep.<sender>, its body naming its `request` (8-64 of A-Z a-z 0-9 _ -) and its `verb`',
  report:
    "a worker hands an outcome to the engines on lf.reports.<sender>.<queue>.<runId>[.<engine>], the sender being the NATS user publishing and <queue> the attempt's",
} as const;

/** Reads `m` as a message of `kind`: the typed message, or why it is dead-lettered. */
export function parseInbound<K extends InboundKind>(kind: K, m: RawMessage): Parsed<K> {
  return READERS[kind](m) as Parsed<K>;
}

type Reader<K extends InboundKind> = (m: RawMessage) => Parsed<K>;

const READERS: { [K in InboundKind]: Reader<K> } = {
  approval: (m) => {
    const [runId, taskId, user] = tokens(m.subject, 'lf.approvals', 3);
    if (!runId || !taskId || !user) return malformed('approval', m, SUBJECT_FORM.approval);
    return withBody('approval', m, runId, ApprovalMessage, (b) => ({
      runId,
      taskId,
      user,
      decision: b.decision,
      ...(b.comment !== undefined ? { comment: b.comment } : {}),
      verdictTo: safeSubject(() => subjects.approvalVerdict(runId, taskId, user)),
    }));
  },
  signal: (m) => {
    const [sender, runId] = tokens(m.subject, 'lf.signals', 2);
    if (!sender || !runId) return malformed('signal', m, SUBJECT_FORM.signal);
    return withBody('signal', m, runId, SignalMessage, (b) => ({
      runId,
      sender,
      name: b.name,
      ...(b.data !== undefined ? { data: b.data } : {}),
      verdictTo: safeSubject(() => subjects.signalVerdict(sender, runId)),
    }));
  },
  control: (m) => {
    const [sender, runId] = tokens(m.subject, 'lf.control', 2);
    if (!sender || !runId) return malformed('control', m, SUBJECT_FORM.control);
    return withBody('control', m, runId, ControlMessage, (b) => ({
      runId,
      sender,
      action: b.action,
      ...(b.reason !== undefined ? { reason: b.reason } : {}),
      verdictTo: safeSubject(() => subjects.controlVerdict(sender, runId)),
    }));
  },
  input: readInput,
  report: (m) => {
    const [sender, queue, runId, engine] =
      m.subject.split('.').length === 6 ? tokens(m.subject, 'lf.reports', 4) : tokens(m.subject, 'lf.reports', 3);
    if (!sender || !queue || !runId) return malformed('report', m, SUBJECT_FORM.report);
    const body = decodeOrUndefined(m.data);
    if ((body as { type?: unknown } | undefined)?.type === 'task.held') {
      if (!engine)
        return malformed(
          'report',
          m,
          'task.held is said to the engine that offered the attempt, on lf.reports.<sender>.<queue>.<runId>.<engine>',
          { runId: runId.slice(0, 200), by: sender },
          true,
        );
      return schema('report', m, body, HeldMessage, (held): Inbound['report'] | Malformed =>
        held.runId !== runId
          ? malformed('report', m, `the body names run ${held.runId}, the subject run ${runId}`)
          : { sender, queue, input: held, engine },
      );
    }
    return schema('report', m, body, InputMessage, (input): Inbound['report'] | Malformed => {
      if (input.type !== 'task.completed' && input.type !== 'task.failed') {
        return malformed(
          'report',
          m,
          `${input.type} refused: only an attempt's outcome is handed over here (a loss or a kick goes on lf.inputs); nothing was recorded`,
          { runId: input.runId, by: sender },
          true,
        );
      }
      if (input.runId !== runId)
        return malformed('report', m, `the body names run ${input.runId}, the subject run ${runId}`);
      return { sender, queue, input, ...(engine ? { engine } : {}) };
    });
  },
  // Only engines publish timers (nats.conf): the body is all there is to check.
  timer: (m) => schema('timer', m, decodeOrUndefined(m.data), TimerMessage, (t) => t),
  trigger: (m) => {
    const event = decodeOrUndefined(m.data);
    const id = (event as { id?: unknown } | undefined)?.id;
    return {
      ok: true,
      value: { event, verdictTo: typeof id === 'string' ? safeSubject(() => subjects.triggerVerdict(id)) : null },
    };
  },
  task: (m) => schema('task', m, decodeOrUndefined(m.data), TaskMessage, (t) => t),
  start: (m) =>
    readRequest('start', m, 'lf.starts', StartRequest, (sender, request) => subjects.startVerdict(sender, request)),
  deploy: (m) =>
    readRequest('deploy', m, 'lf.deploys', DeployRequest, (sender, request) => subjects.deployVerdict(sender, request)),
  limits: (m) =>
    readRequest('limits', m, 'lf.limits', LimitsRequest, (sender, request) => subjects.limitsVerdict(sender, request)),
  upkeep: (m) =>
    readRequest('upkeep', m, 'lf.upkeep', UpkeepRequest, (sender, request) => subjects.upkeepVerdict(sender, request)),
};

/**
 * lf.starts|deploys|limits.<sender>, the body naming its `request`: the sender is the NATS user (nats.conf), the
 * request id names the verdict's subject. A request published before requests had a subject per sender,
 * lf.starts.<sender>.<request>, may still wait in the stream: it is read as it was.
 */
function readRequest<
  K extends 'start' | 'deploy' | 'limits' | 'upkeep',
  S extends z.ZodType<{ request?: string | undefined }>,
>(kind: K, m: RawMessage, prefix: string, body: S, verdict: (sender: string, request: string) => string): Parsed<K> {
  const [legacySender, legacyRequest] = tokens(m.subject, prefix, 2);
  const [sender] = legacySender ? [legacySender] : tokens(m.subject, prefix, 1);
  if (!sender || (legacySender && !REQUEST_ID.test(legacyRequest ?? '')))
    return malformed(kind, m, SUBJECT_FORM[kind], sender ? { by: sender.slice(0, 200) } : {});
  return schema(kind, m, decodeOrUndefined(m.data), body, (b) => {
    const request = legacyRequest ?? b.request;
    if (!request) return malformed(kind, m, SUBJECT_FORM[kind], { by: sender.slice(0, 200) });
    return { sender, request, body: b, verdictTo: safeSubject(() => verdict(sender, request)) } as Inbound[K];
  });
}

/** lf.inputs.<sender>.<queue>.<runId> (a worker's report) or lf.inputs.<sender>.<runId> (kicks, engines' reports). */
function readInput(m: RawMessage): Parsed<'input'> {
  const parts = m.subject.split('.');
  const sender = parts[2];
  const queue = parts.length === 5 ? parts[3] : undefined;
  const runId = parts.length === 5 ? parts[4] : parts.length === 4 ? parts[3] : undefined;
  const body = decodeOrUndefined(m.data);
  const type = (body as { type?: unknown } | undefined)?.type;
  if (type === 'pause' || type === 'resume') {
    // They used to be inputs, which every worker may publish: run control is lf.control now, which nats.conf gives people, not workers.
    return malformed(
      'input',
      m,
      `${type} is not an input: a run is paused or resumed on lf.control.<sender>.<runId>, which nats.conf lets only the users allowed to control runs publish (\`ledgerflow ${type} --nats\`); nothing was recorded`,
      { ...(runId ? { runId: runId.slice(0, 200) } : {}), ...(sender ? { by: sender.slice(0, 200) } : {}) },
      true,
    );
  }
  if (!sender || !runId || queue === '') return malformed('input', m, SUBJECT_FORM.input);
  return schema('input', m, body, InputMessage, (input): Inbound['input'] | Malformed => {
    if (input.runId !== runId)
      return malformed('input', m, `the body names run ${input.runId}, the subject run ${runId}`);
    const misplaced =
      input.type === 'kick'
        ? queue !== undefined
          ? 'a kick is published on lf.inputs.<sender>.<runId>, without a queue'
          : null
        : // Only the engines report attempts without a queue (the ones they run themselves); a worker's report names the attempt's queue.
          queue === undefined && sender !== ENGINE_SENDER
          ? "a worker reports an attempt on lf.inputs.<sender>.<queue>.<runId>, <queue> being the attempt's queue (nats.conf gives each worker user its queues)"
          : null;
    if (misplaced) {
      return malformed(
        'input',
        m,
        `${input.type} refused: ${misplaced}; nothing was recorded`,
        { runId: input.runId, ...(input.type !== 'kick' ? { taskId: input.data.task } : {}), by: sender },
        true,
      );
    }
    return { sender, ...(queue !== undefined ? { queue } : {}), input };
  });
}

/** The `n` tokens after `prefix` (lf.<stream>), or none when the subject has more or fewer. */
function tokens(subject: string, prefix: string, n: number): string[] {
  const parts = subject.split('.');
  return parts.length === n + 2 && `${parts[0]}.${parts[1]}` === prefix ? parts.slice(2) : [];
}

/** The subject's run id checked first: one no run can have (é, 200 characters) is refused here, not retried against the store forever. */
function withBody<K extends 'approval' | 'signal' | 'control', S extends z.ZodType>(
  kind: K,
  m: RawMessage,
  runId: string,
  body: S,
  read: (b: z.infer<S>) => Inbound[K],
): Parsed<K> {
  if (!RunIdSchema.safeParse(runId).success)
    return malformed(kind, m, `"${runId.slice(0, 140)}" is not a run id (1-128 characters among A-Z a-z 0-9 _ -)`);
  return schema(kind, m, decodeOrUndefined(m.data), body, read);
}

/** The body (`json`: decoded, undefined when not JSON), checked by `body`; `read` makes the message of it (or refuses what the subject and body disagree on). */
function schema<K extends InboundKind, S extends z.ZodType>(
  kind: K,
  m: RawMessage,
  json: unknown,
  body: S,
  read: (b: z.infer<S>) => Inbound[K] | Malformed,
): Parsed<K> {
  if (json === undefined) return malformed(kind, m, 'the body is not JSON');
  const parsed = body.safeParse(json);
  if (!parsed.success)
    return malformed(
      kind,
      m,
      parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; '),
    );
  const value = read(parsed.data);
  return isMalformed(value) ? value : { ok: true, value };
}

function isMalformed(v: unknown): v is Malformed {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

function malformed(
  kind: InboundKind,
  m: RawMessage,
  why: string,
  details: DeadLetterDetails = {},
  misdirected = false,
): Malformed {
  return { ok: false, reason: `malformed ${WHAT[kind]} on ${m.subject.slice(0, 300)}: ${why}`, details, misdirected };
}

/** A subject from ids that may not fit in one (then there is no verdict to send: null). */
export function safeSubject(make: () => string): string | null {
  try {
    return make();
  } catch {
    return null;
  }
}

/** A person's approval, signal or run control as the run takes it (the input both an engine and a `resume` taking queued ones record), and who sent it. */
export function personInput(msg: Inbound['approval'] | Inbound['signal'] | Inbound['control']): {
  input: RunInput;
  by: string;
} {
  if ('decision' in msg)
    return {
      by: msg.user,
      input: {
        kind: 'approval',
        taskId: msg.taskId,
        decision: msg.decision,
        ...(msg.comment !== undefined ? { comment: msg.comment } : {}),
      },
    };
  if ('name' in msg)
    return {
      by: msg.sender,
      input: { kind: 'signal', name: msg.name, ...(msg.data !== undefined ? { data: msg.data } : {}) },
    };
  return {
    by: msg.sender,
    input: { kind: 'control', action: msg.action, ...(msg.reason !== undefined ? { reason: msg.reason } : {}) },
  };
}
