/**
 * parseInbound reads every kind of message an engine or worker takes without a
 * server: the typed message out of a good one, and out of a bad one (wrong
 * subject, body not JSON, schema failure, a run id no run can have, a field
 * over its bound, subject and body disagreeing, a message sent where its
 * sender may not) the dead-letter reason, always `malformed <what> on
 * <subject>: <why>`.
 */
import { describe, expect, it } from 'vitest';
import { parseInbound, type InboundKind } from '../../src/cluster/transport/parse.js';

const RUN = 'run-1';
const TOKEN = 't'.repeat(43);
const NOW = '2026-11-23T10:00:00.000Z';
const bytes = (body: unknown) => new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
const msg = (subject: string, body: unknown) => ({ subject, data: bytes(body) });

const task = {
  runId: RUN,
  workflowId: 'wf',
  version: 1,
  taskId: 'prepare',
  attempt: 1,
  handler: 'prepare',
  input: {},
  token: TOKEN,
  task: { name: 'Prepare', type: 'SCRIPT', output: { names: [], values: {} } },
};
const completed = {
  type: 'task.completed',
  runId: RUN,
  time: NOW,
  token: TOKEN,
  data: { task: 'prepare', attempt: 1, output: { ok: true } },
};

/** Good messages of every kind, and what they read as. */
const good: { kind: InboundKind; subject: string; body: unknown; value: unknown }[] = [
  {
    kind: 'approval',
    subject: `lf.approvals.${RUN}.sign.alice`,
    body: { decision: 'approved', comment: 'fine' },
    value: {
      runId: RUN,
      taskId: 'sign',
      user: 'alice',
      decision: 'approved',
      comment: 'fine',
      verdictTo: `lf.verdicts.approvals.${RUN}.sign.alice`,
    },
  },
  {
    kind: 'signal',
    subject: `lf.signals.alice.${RUN}`,
    body: { name: 'release', data: { n: 1 } },
    value: {
      runId: RUN,
      sender: 'alice',
      name: 'release',
      data: { n: 1 },
      verdictTo: `lf.verdicts.signals.alice.${RUN}`,
    },
  },
  {
    kind: 'control',
    subject: `lf.control.commander.${RUN}`,
    body: { action: 'pause', reason: 'audit' },
    value: {
      runId: RUN,
      sender: 'commander',
      action: 'pause',
      reason: 'audit',
      verdictTo: `lf.verdicts.control.commander.${RUN}`,
    },
  },
  {
    kind: 'input',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: completed,
    value: { sender: 'worker', queue: 'default', input: completed },
  },
  {
    kind: 'input',
    subject: `lf.inputs.engine.${RUN}`,
    body: { type: 'kick', runId: RUN },
    value: { sender: 'engine', input: { type: 'kick', runId: RUN } },
  },
  { kind: 'input', subject: `lf.inputs.engine.${RUN}`, body: completed, value: { sender: 'engine', input: completed } },
  {
    kind: 'report',
    subject: `lf.reports.worker.default.${RUN}`,
    body: completed,
    value: { sender: 'worker', queue: 'default', input: completed },
  },
  {
    kind: 'timer',
    subject: `lf.timers.${RUN}`,
    body: { runId: RUN, task: 'sign', kind: 'approval_timeout', attempt: 1, dueAt: NOW },
    value: { runId: RUN, task: 'sign', kind: 'approval_timeout', attempt: 1, dueAt: NOW },
  },
  {
    kind: 'trigger',
    subject: 'lf.triggers.payment_received',
    body: { id: 'ev-1', type: 'payment_received' },
    value: { event: { id: 'ev-1', type: 'payment_received' }, verdictTo: 'lf.verdicts.triggers.ev-1' },
  },
  // A trigger is only decoded: admitEvent judges it (and dead-letters it by its stage).
  {
    kind: 'trigger',
    subject: 'lf.triggers.payment_received',
    body: 'not json',
    value: { event: undefined, verdictTo: null },
  },
  {
    kind: 'trigger',
    subject: 'lf.triggers.payment_received',
    body: { id: 'has.dots' },
    value: { event: { id: 'has.dots' }, verdictTo: null },
  },
  { kind: 'task', subject: 'lf.q.default.prepare', body: task, value: task },
  // A sender's subject, the request's id in the body (one subject per sender: LF_REQUESTS bounds each).
  {
    kind: 'start',
    subject: 'lf.starts.ops-east',
    body: { request: 'req-00000009', workflow: 'stock-count', input: {} },
    value: {
      sender: 'ops-east',
      request: 'req-00000009',
      body: { request: 'req-00000009', workflow: 'stock-count', input: {} },
      verdictTo: 'lf.verdicts.starts.ops-east.req-00000009',
    },
  },
  {
    kind: 'deploy',
    subject: 'lf.deploys.bob',
    body: { request: 'req-00000010', text: 'workflow: {}' },
    value: {
      sender: 'bob',
      request: 'req-00000010',
      body: { request: 'req-00000010', text: 'workflow: {}' },
      verdictTo: 'lf.verdicts.deploys.bob.req-00000010',
    },
  },
  {
    kind: 'upkeep',
    subject: 'lf.upkeep.bob',
    body: { request: 'req-00000011', verb: 'archive', olderThanMs: 0 },
    value: {
      sender: 'bob',
      request: 'req-00000011',
      body: { request: 'req-00000011', verb: 'archive', olderThanMs: 0 },
      verdictTo: 'lf.verdicts.upkeep.bob.req-00000011',
    },
  },
  // As requests were published before: still read when one waits in the stream.
  {
    kind: 'start',
    subject: 'lf.starts.ops-east.req-00000001',
    body: {
      workflow: 'stock-count',
      input: { n: '1' },
      inputFromStrings: true,
      runId: '20261126-071934-29128fhci8n6k',
    },
    value: {
      sender: 'ops-east',
      request: 'req-00000001',
      body: {
        workflow: 'stock-count',
        input: { n: '1' },
        inputFromStrings: true,
        runId: '20261126-071934-29128fhci8n6k',
      },
      verdictTo: 'lf.verdicts.starts.ops-east.req-00000001',
    },
  },
  {
    kind: 'start',
    subject: 'lf.starts.bob.req-00000002',
    body: { retryOf: RUN, runId: '20261126-071934-29128fhci8n6k' },
    value: {
      sender: 'bob',
      request: 'req-00000002',
      body: { retryOf: RUN, runId: '20261126-071934-29128fhci8n6k' },
      verdictTo: 'lf.verdicts.starts.bob.req-00000002',
    },
  },
  {
    kind: 'deploy',
    subject: 'lf.deploys.bob.req-00000003',
    body: { file: 'a.yaml', text: 'workflow: {}' },
    value: {
      sender: 'bob',
      request: 'req-00000003',
      body: { file: 'a.yaml', text: 'workflow: {}' },
      verdictTo: 'lf.verdicts.deploys.bob.req-00000003',
    },
  },
];

/** Bad messages of every kind, and the `<why>` of their reason (a regexp on what follows `malformed <what> on <subject>: `). */
const bad: {
  kind: InboundKind;
  what: string;
  case: string;
  subject: string;
  body: unknown;
  why: RegExp;
  details?: object;
  misdirected?: true;
}[] = [
  {
    kind: 'approval',
    what: 'approval',
    case: 'subject without the user',
    subject: `lf.approvals.${RUN}.sign`,
    body: { decision: 'approved' },
    why: /^an approval is published on lf\.approvals\.<runId>\.<taskId>\.<user>$/,
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'subject with a token more',
    subject: `lf.approvals.${RUN}.sign.alice.extra`,
    body: { decision: 'approved' },
    why: /^an approval is published on/,
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'bad run id',
    subject: `lf.approvals.${'é'.repeat(3)}.sign.alice`,
    body: { decision: 'approved' },
    why: /^"ééé" is not a run id \(1-128 characters among A-Z a-z 0-9 _ -\)$/,
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'run id too long',
    subject: `lf.approvals.${'r'.repeat(200)}.sign.alice`,
    body: { decision: 'approved' },
    why: new RegExp(`^"${'r'.repeat(140)}" is not a run id`),
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'body not JSON',
    subject: `lf.approvals.${RUN}.sign.alice`,
    body: '{decision',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'schema failure',
    subject: `lf.approvals.${RUN}.sign.alice`,
    body: { decision: 'yes' },
    why: /^decision: /,
  },
  {
    kind: 'approval',
    what: 'approval',
    case: 'oversized comment',
    subject: `lf.approvals.${RUN}.sign.alice`,
    body: { decision: 'approved', comment: 'x'.repeat(2001) },
    why: /^comment: .*2000/,
  },
  {
    kind: 'signal',
    what: 'signal',
    case: 'subject without the run',
    subject: 'lf.signals.alice',
    body: { name: 'go' },
    why: /^a signal is published on lf\.signals\.<sender>\.<runId>$/,
  },
  {
    kind: 'signal',
    what: 'signal',
    case: 'bad run id',
    subject: 'lf.signals.alice.a*b',
    body: { name: 'go' },
    why: /^"a\*b" is not a run id/,
  },
  {
    kind: 'signal',
    what: 'signal',
    case: 'body not JSON',
    subject: `lf.signals.alice.${RUN}`,
    body: '',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'signal',
    what: 'signal',
    case: 'schema failure (no name)',
    subject: `lf.signals.alice.${RUN}`,
    body: { data: 1 },
    why: /^name: /,
  },
  {
    kind: 'signal',
    what: 'signal',
    case: 'oversized data',
    subject: `lf.signals.alice.${RUN}`,
    body: { name: 'go', data: 'x'.repeat(70 * 1024) },
    why: /^data: signal data has \d+ bytes as JSON; at most 65536/,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'subject with a token more',
    subject: `lf.control.commander.${RUN}.x`,
    body: { action: 'pause' },
    why: /^run control is published on lf\.control\.<sender>\.<runId>$/,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'bad run id',
    subject: `lf.control.commander.${'r'.repeat(129)}`,
    body: { action: 'pause' },
    why: /is not a run id/,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'body not JSON',
    subject: `lf.control.commander.${RUN}`,
    body: 'pause',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'unknown action',
    subject: `lf.control.commander.${RUN}`,
    body: { action: 'restart' },
    why: /^action: /,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'a `by` in the body',
    subject: `lf.control.commander.${RUN}`,
    body: { action: 'pause', by: 'cfo' },
    why: /"by"/,
  },
  {
    kind: 'control',
    what: 'run control',
    case: 'oversized reason',
    subject: `lf.control.commander.${RUN}`,
    body: { action: 'pause', reason: 'x'.repeat(2001) },
    why: /^reason: /,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'subject without a run',
    subject: 'lf.inputs.worker',
    body: completed,
    why: /^inputs are published on lf\.inputs\.<sender>\.<queue>\.<runId>/,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'subject with a token more',
    subject: `lf.inputs.worker.default.${RUN}.x`,
    body: completed,
    why: /^inputs are published on/,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'body not JSON',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: '\u0000',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'schema failure (a timer fired by a worker)',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: { type: 'timer.fired', runId: RUN, time: NOW, data: {} },
    why: /^type: /,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'bad run id in the body',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: { ...completed, runId: 'a b' },
    why: /^runId: /,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'oversized token',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: { ...completed, token: 'x'.repeat(201) },
    why: /^token: /,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'subject and body name other runs',
    subject: `lf.inputs.worker.default.other`,
    body: completed,
    why: new RegExp(`^the body names run ${RUN}, the subject run other$`),
  },
  {
    kind: 'input',
    what: 'input',
    case: 'a pause (run control is lf.control)',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: { type: 'pause', runId: RUN },
    why: /^pause is not an input: a run is paused or resumed on lf\.control\.<sender>\.<runId>.*nothing was recorded$/,
    details: { runId: RUN, by: 'worker' },
    misdirected: true,
  },
  {
    kind: 'input',
    what: 'input',
    case: 'a kick on a queue',
    subject: `lf.inputs.worker.default.${RUN}`,
    body: { type: 'kick', runId: RUN },
    why: /^kick refused: a kick is published on lf\.inputs\.<sender>\.<runId>, without a queue; nothing was recorded$/,
    details: { runId: RUN, by: 'worker' },
    misdirected: true,
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'no request id in the subject or the body',
    subject: 'lf.starts.bob',
    body: { workflow: 'w', input: {} },
    why: /^a start is published on lf\.starts\.<sender>, its body naming its `request`/,
    details: { by: 'bob' },
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'a request id too short in the body',
    subject: 'lf.starts.bob',
    body: { request: 'r1', workflow: 'w', input: {} },
    why: /^request: expected a request id/,
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'a request id too short',
    subject: 'lf.starts.bob.r1',
    body: { workflow: 'w', input: {} },
    why: /^a start is published on/,
    details: { by: 'bob' },
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'body not JSON',
    subject: 'lf.starts.bob.req-00000001',
    body: '{',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'a name of its own in the body',
    subject: 'lf.starts.bob.req-00000001',
    body: { workflow: 'w', input: {}, by: 'alice' },
    why: /by/,
  },
  {
    kind: 'start',
    what: 'start request',
    case: 'a run id not of a fresh start',
    subject: 'lf.starts.bob.req-00000001',
    body: { workflow: 'w', input: {}, runId: 'parent--child' },
    why: /fresh run id/,
  },
  {
    kind: 'deploy',
    what: 'deploy request',
    case: 'no text',
    subject: 'lf.deploys.bob.req-00000001',
    body: { file: 'a.yaml' },
    why: /^text: /,
  },
  {
    kind: 'upkeep',
    what: 'upkeep request',
    case: 'a verb it does not know',
    subject: 'lf.upkeep.bob',
    body: { request: 'req-00000001', verb: 'drop-everything' },
    why: /verb/,
  },
  {
    kind: 'upkeep',
    what: 'upkeep request',
    case: 'a run id that is a path',
    subject: 'lf.upkeep.bob',
    body: { request: 'req-00000001', verb: 'restore', runId: '../../etc/passwd' },
    why: /runId/,
  },
  {
    kind: 'upkeep',
    what: 'upkeep request',
    case: 'no request id',
    subject: 'lf.upkeep.bob',
    body: { verb: 'keys-rotate' },
    why: /^an upkeep request .* is published on lf\.upkeep\.<sender>/,
    details: { by: 'bob' },
  },
  {
    kind: 'report',
    what: 'report',
    case: 'subject without its queue',
    subject: `lf.reports.worker.${RUN}`,
    body: completed,
    why: /^a worker hands an outcome to the engines on lf\.reports\.<sender>\.<queue>\.<runId>/,
  },
  {
    kind: 'report',
    what: 'report',
    case: 'subject and body name other runs',
    subject: `lf.reports.worker.default.other`,
    body: completed,
    why: new RegExp(`^the body names run ${RUN}, the subject run other$`),
  },
  {
    kind: 'report',
    what: 'report',
    case: 'a kick handed over',
    subject: `lf.reports.worker.default.${RUN}`,
    body: { type: 'kick', runId: RUN },
    why: /^kick refused: only an attempt's outcome is handed over here/,
    details: { runId: RUN, by: 'worker' },
    misdirected: true,
  },
  {
    kind: 'input',
    what: 'input',
    case: "a worker's report without its queue",
    subject: `lf.inputs.worker.${RUN}`,
    body: completed,
    why: /^task\.completed refused: a worker reports an attempt on lf\.inputs\.<sender>\.<queue>\.<runId>/,
    details: { runId: RUN, taskId: 'prepare', by: 'worker' },
    misdirected: true,
  },
  {
    kind: 'timer',
    what: 'timer',
    case: 'body not JSON',
    subject: `lf.timers.${RUN}`,
    body: 'soon',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'timer',
    what: 'timer',
    case: 'schema failure',
    subject: `lf.timers.${RUN}`,
    body: { runId: RUN, task: 'sign', kind: 'approval_timeout', attempt: 0, dueAt: 'later' },
    why: /^attempt: .*; dueAt: expected an ISO 8601 time$/,
  },
  {
    kind: 'timer',
    what: 'timer',
    case: 'bad run id',
    subject: `lf.timers.${RUN}`,
    body: { runId: '', task: 'sign', kind: 'approval_timeout', attempt: 1, dueAt: NOW },
    why: /^runId: /,
  },
  {
    kind: 'task',
    what: 'task attempt',
    case: 'body not JSON',
    subject: 'lf.q.default.prepare',
    body: 'x',
    why: /^the body is not JSON$/,
  },
  {
    kind: 'task',
    what: 'task attempt',
    case: 'schema failure (no token)',
    subject: 'lf.q.default.prepare',
    body: { ...task, token: undefined },
    why: /^token: /,
  },
  {
    kind: 'task',
    what: 'task attempt',
    case: 'oversized token',
    subject: 'lf.q.default.prepare',
    body: { ...task, token: 'x'.repeat(201) },
    why: /^token: /,
  },
];

describe('parseInbound', () => {
  it.each(good)('reads a good $kind message on $subject', ({ kind, subject, body, value }) => {
    expect(parseInbound(kind, msg(subject, body))).toEqual({ ok: true, value });
  });

  it.each(bad)(
    '$kind: $case → "malformed $what on <subject>: …"',
    ({ kind, what, subject, body, why, details, misdirected }) => {
      const r = parseInbound(kind, msg(subject, body));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const prefix = `malformed ${what} on ${subject.slice(0, 300)}: `;
      expect(r.reason.startsWith(prefix), r.reason).toBe(true);
      expect(r.reason.slice(prefix.length)).toMatch(why);
      expect(r.details).toEqual(details ?? {});
      expect(r.misdirected).toBe(misdirected ?? false);
    },
  );

  it('cuts a long subject in the reason to 300 characters', () => {
    const subject = `lf.approvals.${'r'.repeat(400)}.sign.alice`;
    const r = parseInbound('approval', msg(subject, { decision: 'approved' }));
    expect(r).toMatchObject({
      ok: false,
      reason: `malformed approval on ${subject.slice(0, 300)}: "${'r'.repeat(140)}" is not a run id (1-128 characters among A-Z a-z 0-9 _ -)`,
    });
  });

  it('gives no verdict subject when the ids cannot make one, and still reads the message', () => {
    const r = parseInbound('approval', msg(`lf.approvals.${RUN}.sign.al$ce`, { decision: 'rejected' }));
    expect(r).toEqual({
      ok: true,
      value: { runId: RUN, taskId: 'sign', user: 'al$ce', decision: 'rejected', verdictTo: null },
    });
  });

  it('keeps only what the body may say: a body naming who reported it does not carry that name', () => {
    const r = parseInbound(
      'input',
      msg(`lf.inputs.worker.default.${RUN}`, { ...completed, data: { ...completed.data, by: 'cfo' } }),
    );
    expect(r).toMatchObject({ ok: true, value: { sender: 'worker' } });
    expect(r.ok && r.value.input.type === 'task.completed' && 'by' in r.value.input.data).toBe(false);
  });
});
