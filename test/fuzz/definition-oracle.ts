/**
 * What every definition, however hostile, must lead to: a clear refusal
 * (every problem at file:line:col with a message, no stack trace, nothing
 * thrown) or a run that ends (COMPLETED, FAILED, CANCELLED) or waits on
 * something outstanding (a HUMAN task, a timer). Never an exception out of
 * the engine, never a run RUNNING with nothing in flight, never a hang.
 */
import fc from 'fast-check';
import { VirtualClock } from '../../src/coverage/index.js';
import {
  parseDefinition,
  RUNNABLE_TASK_TYPES,
  type Definition,
  type TaskDef,
  type WaitTask,
} from '../../src/definition/index.js';
import { LedgerflowError, NonRetryableError, type Diagnostic } from '../../src/errors/index.js';
import {
  reconcile,
  replayRun,
  foldEvents,
  type Handlers,
  type HttpRunner,
  type RunView,
} from '../../src/runtime/index.js';
import { HttpTaskError } from '../../src/handlers/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

/** What the test does at run time: how each handler attempt behaves, and each approval decision. */
export interface Script {
  /** Per attempt of any SIMPLE task, in the order attempts start; the last one repeats. */
  outcomes: ('ok' | 'fail' | 'fatal' | 'hang' | 'weird')[];
  decisions: boolean[];
  /** Leave one handler out: the run must be refused with LF_HANDLER_NOT_FOUND, not start. */
  omitHandler: boolean;
  /** Cancel the run when it first waits for a person, instead of deciding: it must end CANCELLED. */
  cancel: boolean;
}

export const script: fc.Arbitrary<Script> = fc.record({
  outcomes: fc.array(fc.constantFrom('ok', 'ok', 'ok', 'fail', 'fatal', 'hang', 'weird'), {
    minLength: 1,
    maxLength: 8,
  }),
  decisions: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  omitHandler: fc.nat(9).map((n) => n === 0),
  cancel: fc.nat(4).map((n) => n === 0),
});

/** A diagnostic a person can act on: a place and a message, not an internal error. */
export function assertClearDiagnostic(d: Diagnostic): void {
  const where = `${d.file}:${d.line}:${d.col}`;
  if (d.file !== 'fuzz.yaml' || !Number.isInteger(d.line) || d.line! < 1 || !Number.isInteger(d.col) || d.col! < 1) {
    throw new Error(`diagnostic without a place (${where}): ${JSON.stringify(d)}`);
  }
  if (typeof d.message !== 'string' || d.message.trim() === '')
    throw new Error(`diagnostic without a message at ${where}`);
  if (/\n\s+at .+\(.*:\d+:\d+\)|\[object Object\]|\bundefined\b|TypeError|RangeError|call stack/i.test(d.message)) {
    throw new Error(`diagnostic leaks an internal error at ${where}: ${d.message}`);
  }
  // zod's defaults say nothing about what was expected: every schema error names it.
  if (/\bInvalid (input|option|element|key)\b/.test(d.message))
    throw new Error(`diagnostic with zod's default message at ${where}: ${d.message}`);
  if (!/^[A-Z][A-Z0-9_]+$/.test(d.code)) throw new Error(`diagnostic without a stable code at ${where}: ${d.code}`);
}

function handlersFor(def: Definition, s: Script): Handlers {
  // A plain object, as a handler module's default export is.
  const handlers: Handlers = {};
  let n = 0;
  const behave = async (
    input: Record<string, unknown>,
    ctx: { signal: AbortSignal; task: { output: { names: string[] } } },
  ) => {
    const outcome = s.outcomes[Math.min(n++, s.outcomes.length - 1)]!;
    switch (outcome) {
      case 'ok':
        return Object.fromEntries([...ctx.task.output.names, 'x'].map((k) => [k, n % 2 === 0 ? 'y' : 1]));
      case 'fail':
        throw new Error('transient');
      case 'fatal':
        throw new NonRetryableError('fatal', 'E_FATAL');
      case 'weird':
        return n % 2 === 0 ? { big: 1e300, nan: NaN, nested: input } : undefined;
      case 'hang': {
        // Answers only to an abort (timeout, cancel): without a timeout it is a run waiting on its handler.
        const signal = ctx.signal;
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
    }
  };
  for (const t of def.tasks)
    if (t.type === 'SIMPLE' || (t.type === 'MAP' && !t.iterator))
      Object.defineProperty(handlers, t.handler ?? t.assignedTo ?? t.id, {
        value: behave,
        enumerable: true,
        configurable: true,
      });
  return handlers;
}

/** HTTP attempts answered by the script as handlers are (nothing is sent): a response, a failure, a hang. */
function httpFor(s: Script): HttpRunner {
  let n = 0;
  return async (_request, ctx) => {
    const outcome = s.outcomes[Math.min(n++, s.outcomes.length - 1)]!;
    switch (outcome) {
      case 'ok':
        return { status: 200, headers: { 'content-type': 'application/json' }, body: { x: n % 2 === 0 ? 'y' : 1 } };
      case 'fail':
        throw new HttpTaskError(
          'GET https://api.example.com/orders answered 503',
          'LF_HTTP_STATUS',
          true,
          n % 2 === 0 ? 1000 : undefined,
        );
      case 'fatal':
        throw new HttpTaskError('GET https://api.example.com/orders answered 404', 'LF_HTTP_STATUS', false);
      case 'weird':
        return { status: 200, headers: {}, body: 'x'.repeat(10), truncated: true, bytes: 10 };
      case 'hang': {
        const signal = ctx.signal;
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
    }
  };
}

/** Inputs the definition requires, each of its declared type. */
function inputsFor(def: Definition): Record<string, unknown> {
  const byType = { string: 's', number: 1, boolean: true, object: {}, array: [], any: 'a' } as const;
  const input: Record<string, unknown> = {};
  for (const i of def.inputs)
    if (i.required) Object.defineProperty(input, i.name, { value: byType[i.type], enumerable: true });
  return input;
}

const hangsWithoutTimeout = (def: Definition, s: Script) =>
  s.outcomes.includes('hang') &&
  def.tasks.some((t: TaskDef) => (t.type === 'SIMPLE' || t.type === 'HTTP') && t.timeoutMs === undefined);

export type Outcome =
  | { kind: 'refused'; diagnostics: Diagnostic[] }
  | { kind: 'not-runnable' }
  | { kind: 'no-handler' }
  | { kind: 'ran'; view: RunView; rounds: number };

/** Validates `text`, and runs what validates; throws on anything the contract above forbids. */
export async function checkDefinition(text: string, s: Script): Promise<Outcome> {
  const parsed = parseDefinition(text, 'fuzz.yaml'); // must not throw
  for (const d of parsed.diagnostics) assertClearDiagnostic(d);
  const def = parsed.definition;
  if (!def) {
    if (!parsed.diagnostics.some((d) => d.severity === 'error')) throw new Error('refused without an error diagnostic');
    return { kind: 'refused', diagnostics: parsed.diagnostics };
  }
  if (!def.tasks.every((t) => RUNNABLE_TASK_TYPES.includes(t.type))) return { kind: 'not-runnable' };
  // A handler that waits for an abort that never comes is the user's hang, not the engine's.
  if (hangsWithoutTimeout(def, s)) s = { ...s, outcomes: s.outcomes.map((o) => (o === 'hang' ? 'fail' : o)) };

  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 9), { auto: true });
  const store = new MemoryEventStore();
  const engine = new Engine({ store, clock, runHttp: httpFor(s) });
  const handlers = handlersFor(def, s);
  const simple = def.tasks.filter((t) => t.type === 'SIMPLE');
  if (s.omitHandler && simple.length > 0) {
    const name = simple[0]!.handler ?? simple[0]!.assignedTo ?? simple[0]!.id;
    delete (handlers as Record<string, unknown>)[name];
    const refused = await engine.run(def, inputsFor(def), { handlers, maxTimerWaitMs: 400 * 86_400_000 }).then(
      (view) => new Error(`ran (${view.status}) without a handler named "${name}"`),
      (err: unknown) => (err instanceof LedgerflowError && err.code === 'LF_HANDLER_NOT_FOUND' ? null : err),
    );
    clock.stop();
    if (refused) throw refused;
    return { kind: 'no-handler' };
  }
  try {
    // Time is virtual: waiting in-process for any due time costs nothing.
    // This process has every skill the definition requires (docs/limits.md#skills): its tasks run here, to an end.
    const skills = new Set(def.tasks.flatMap((t) => t.requires ?? []));
    const opts = { handlers, maxTimerWaitMs: 400 * 86_400_000, follow: false, skills };
    let view = await engine.run(def, inputsFor(def), opts);
    let rounds = 0;
    for (; view.status === 'WAITING' && rounds < 50; rounds++) {
      await assertNotStuck(engine, view);
      if (s.cancel) {
        const { changed, view: cancelled } = await engine.cancel(view.runId, { by: 'fuzzer', reason: 'fuzz' });
        if (!changed || cancelled.status !== 'CANCELLED')
          throw new Error(`cancel of a waiting run left it ${cancelled.status}`);
        view = await engine.drive(view.runId, opts);
        break;
      }
      const pending = Object.entries(view.tasks).filter(([, t]) => t.status === 'PENDING_APPROVAL');
      // A WAIT for a signal (`event:`) and no approval: the signal is sent, by one it accepts.
      const signalWait = pending.length === 0 ? signalWaitOf(def, view) : undefined;
      if (signalWait) {
        await engine.signal(view.runId, signalWait.event!, { by: signalWait.signalers?.[0] ?? 'fuzzer' });
        view = await engine.drive(view.runId, opts);
        continue;
      }
      // One decision per round: a rejection may settle the run, after which deciding is refused.
      const [taskId] = pending[0]!;
      const task = def.tasks.find((t) => t.id === taskId);
      const by = task?.type === 'HUMAN' && task.approvers.length > 0 ? task.approvers[0]! : 'fuzzer';
      await engine.decide(view.runId, taskId, s.decisions[rounds % s.decisions.length] ? 'approved' : 'rejected', by);
      view = await engine.drive(view.runId, opts);
    }
    await assertNotStuck(engine, view);
    if (view.status === 'WAITING') throw new Error(`still WAITING after ${rounds} rounds of decisions`);
    const report = replayRun(await engine.events(view.runId));
    if (report.divergence) throw new Error(`replay diverges: ${JSON.stringify(report.divergence)}`);
    return { kind: 'ran', view, rounds };
  } finally {
    clock.stop();
  }
}

/** A WAIT task of the run waiting for its signal (`event:`), if any: something outstanding, as an approval is. */
function signalWaitOf(def: Definition, view: RunView): WaitTask | undefined {
  return def.tasks.find(
    (t): t is WaitTask => t.type === 'WAIT' && t.event !== undefined && view.tasks[t.id]?.status === 'WAITING',
  );
}

/** RUNNING or WAITING must have something outstanding: an attempt to run, a timer, a person to decide, a signal to send. */
async function assertNotStuck(engine: Engine, view: RunView): Promise<void> {
  if (view.status !== 'RUNNING' && view.status !== 'WAITING') return;
  const { compiled, snapshot } = foldEvents(await engine.events(view.runId));
  const outstanding = reconcile(compiled, snapshot);
  const approvals = Object.values(view.tasks).some((t) => t.status === 'PENDING_APPROVAL');
  if (outstanding.length === 0 && !approvals && !signalWaitOf(compiled.definition, view)) {
    throw new Error(
      `stuck: run is ${view.status} with nothing outstanding; tasks ${JSON.stringify(Object.fromEntries(Object.entries(view.tasks).map(([k, t]) => [k, t.status])))}`,
    );
  }
  // Driven with every due time in reach, RUNNING means an attempt or a timer that never came back.
  if (view.status === 'RUNNING')
    throw new Error(`driver returned a RUNNING run: ${JSON.stringify(outstanding.map((e) => e.type))}`);
}
