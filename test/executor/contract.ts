/**
 * The executor contract: one table of scenarios that every executor runs —
 * the local engine over the file store (local.test.ts) and the NATS engines
 * and workers over a real nats-server (nats.test.ts) — as test/store/contract.ts
 * is for stores. Each scenario is written from docs/language.md: YAML
 * definitions in the shape the docs show, and assertions on what a user
 * relies on (final status, outputs, the events in the history, who approved
 * or signalled or paused). A scenario never asks which executor it runs on:
 * where two executors legitimately differ, that difference is a field of
 * `ExecutorTraits`, which the adapter sets. The scenarios are in
 * scenarios/, one file per group of constructs; this file is the port they
 * use (`Executor`, `Session`) and the runner.
 */
import { describe, expect, onTestFinished } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { replayRun, type Handlers, type RunView } from '../../src/runtime/index.js';
import { CancelRefusedError } from '../../src/errors/index.js';
import { SETTLED_STATUSES } from '../../src/events/index.js';
import { parseRunQuery, type RunRecord } from '../../src/query/index.js';
import type { Acting, Runs } from '../../src/runs/index.js';
import { childScenarios } from './scenarios/children.js';
import { commandScenarios } from './scenarios/commands.js';
import { httpScenarios } from './scenarios/http.js';
import { fanOutScenarios } from './scenarios/fan-out.js';
import { flowControlScenarios } from './scenarios/flow-control.js';
import type { ScenarioKit } from './scenarios/kit.js';
import { peopleScenarios } from './scenarios/people.js';
import { restartScenarios } from './scenarios/restarts.js';
import { retryScenarios } from './scenarios/retries.js';
import { runControlScenarios } from './scenarios/run-control.js';

/** Where two executors legitimately differ; a scenario reads these, never the executor's name. */
export interface ExecutorTraits {
  /**
   * The `reason` of the task.restarted an attempt lost with the executor gets:
   * 'resumed' where the process that drove the run is started again and
   * resumes it, 'worker_lost' where another worker finds it unfinished.
   */
  restartReason: 'resumed' | 'worker_lost';
  /**
   * Whether a handler still running when its run is cancelled or terminated
   * gets its AbortSignal. In-process it does; a remote worker is told nothing
   * (its attempt's outcome is simply not taken), only its deadline aborts it.
   */
  abortsRunningHandlers: boolean;
  /** The `by` of the task.completed that reports a child run's outcome to its parent: on NATS the engine that saw the child settle; in-process none. */
  childOutcomeBy: string | undefined;
}

/** What one scenario gives the executor: its definitions (YAML, as a user writes them) and the handlers its workers run. */
export interface ScenarioSetup {
  workflows: string[];
  handlers: Handlers;
}

/** One scenario's use of an executor. People are named by the NATS users of nats.conf (alice, bob, commander), who exist on both. */
export interface Session {
  /** Starts a run of the workflow with that id (at that priority: 0..99); the executor drives it from then on. */
  start(workflowId: string, input: Record<string, unknown>, opts?: { priority?: number }): Promise<string>;
  /** A decision on a HUMAN task by that person; a refusal throws ApprovalRefusedError (after recording it for the audit trail). */
  decide(runId: string, taskId: string, decision: 'approved' | 'rejected', by: string, comment?: string): Promise<void>;
  /** A signal from that person; one no WAIT takes throws SignalRefusedError and records nothing. */
  signal(runId: string, name: string, by: string, data?: unknown): Promise<void>;
  /** A refusal (settled, already paused) throws PauseRefusedError and records nothing. */
  pause(runId: string, by: string, reason?: string): Promise<void>;
  /** `changed` is false (nothing recorded) when the run was not paused. */
  resume(runId: string, by: string): Promise<{ changed: boolean }>;
  /** `changed` is false (nothing recorded) when the run had settled. */
  cancel(runId: string, by: string, reason?: string): Promise<{ changed: boolean }>;
  /** The run once it has settled, or (`waiting`) also once it waits for a person, a signal or a resume. */
  until(runId: string, what: 'settled' | 'waiting'): Promise<RunView>;
  /** The run as it is now; null for a run that does not exist (yet). */
  status(runId: string): Promise<RunView | null>;
  history(runId: string): Promise<EventEnvelope[]>;
  runs(workflowId: string): Promise<RunRecord[]>;
  /** Retry from failed: a new run of a FAILED or CANCELLED run that reuses what completed; any other run is refused (RetryRefusedError). Its id. */
  retry(runId: string): Promise<string>;
  /** The executor dies with attempts in flight (nothing more is reported) and is started again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** How long a Session waits for a run to settle or wait, and for an engine's verdict on a person's input. */
const UNTIL_MS = 20_000;
const VERDICT_MS = 10_000;

/**
 * The Session's verbs that are the run API's (src/runs/) as the product exposes it, on either executor: a
 * person's input given as `runsOf(by)` acts, the reads and waits (`reader`). `check` (after a wait): a failure the
 * executor saw meanwhile is thrown.
 */
export function runsSession(
  reader: () => Runs,
  runsOf: (by: string) => { runs: Runs; as: Acting },
  check: () => void = () => undefined,
): Omit<Session, 'start' | 'retry' | 'restart' | 'close'> {
  const any = reader;
  const input = async (runId: string, by: string, input: Parameters<Runs['input']>[1]) => {
    const { runs, as } = runsOf(by);
    return runs.input(runId, input, as, { waitMs: VERDICT_MS });
  };
  const recorded = async (what: string, runId: string, by: string, given: Parameters<Runs['input']>[1]) => {
    if (!(await input(runId, by, given)).recorded)
      throw new Error(`no engine answered ${by}'s ${what} of ${runId} within ${VERDICT_MS} ms`);
  };
  return {
    decide: (runId, taskId, decision, by, comment) =>
      recorded(`decision on ${taskId}`, runId, by, {
        kind: 'approval',
        taskId,
        decision,
        ...(comment !== undefined ? { comment } : {}),
      }),
    signal: (runId, name, by, data) =>
      recorded(`signal ${name}`, runId, by, { kind: 'signal', name, ...(data !== undefined ? { data } : {}) }),
    pause: (runId, by, reason) =>
      recorded('pause', runId, by, { kind: 'control', action: 'pause', ...(reason !== undefined ? { reason } : {}) }),
    resume: async (runId, by) => ({ changed: (await input(runId, by, { kind: 'control', action: 'resume' })).changed }),
    async cancel(runId, by, reason) {
      try {
        return {
          changed: (
            await input(runId, by, { kind: 'control', action: 'cancel', ...(reason !== undefined ? { reason } : {}) })
          ).changed,
        };
      } catch (err) {
        // An engine's refusal of a settled run: nothing changed (as the embedded run API says with changed: false).
        if (err instanceof CancelRefusedError && SETTLED_STATUSES.includes(err.meta.status as RunView['status']))
          return { changed: false };
        throw err;
      }
    },
    async until(runId, what) {
      const view = await any().wait(runId, { orWaiting: what === 'waiting', timeoutMs: UNTIL_MS });
      check();
      const done =
        SETTLED_STATUSES.includes(view.status) ||
        (what === 'waiting' && (view.status === 'WAITING' || view.status === 'PAUSED'));
      if (!done) throw new Error(`run ${runId} is still ${view.status} after ${UNTIL_MS} ms (waited until ${what})`);
      return view;
    },
    status: (runId) => any().status(runId),
    history: (runId) => any().history(runId),
    runs: (workflowId) => any().list(parseRunQuery({ workflow: workflowId }, 'cli', Date.now())),
  };
}

export interface Executor {
  traits: ExecutorTraits;
  open(setup: ScenarioSetup): Promise<Session>;
}

/**
 * Runs the table against an executor. `executor` is called while the
 * describe is collected (it may register beforeAll/afterAll hooks, as
 * useCluster does) and returns the adapter the scenarios use.
 */
/** The groups of scenarios, by name: a variant of an executor may run some of them only. */
export type ScenarioGroup =
  | 'retries'
  | 'people'
  | 'run-control'
  | 'children'
  | 'fan-out'
  | 'commands'
  | 'http'
  | 'restarts'
  | 'flow-control';

export function runExecutorContract(
  name: string,
  executor: () => Executor,
  opts: { skip?: boolean; only?: ScenarioGroup[] } = {},
): void {
  describe.skipIf(opts.skip)(`executor contract: ${name}`, () => {
    const ex = executor();
    const kit: ScenarioKit = {
      traits: () => ex.traits,
      async open(setup) {
        const s = await ex.open(setup);
        onTestFinished(() => s.close());
        return s;
      },
      async replays(s, ...runIds) {
        for (const runId of runIds) expect(replayRun(await s.history(runId)).divergence, runId).toBeNull();
      },
    };
    const groups: Record<ScenarioGroup, (k: ScenarioKit) => void> = {
      retries: retryScenarios,
      people: peopleScenarios,
      'run-control': runControlScenarios,
      children: childScenarios,
      'fan-out': fanOutScenarios,
      commands: commandScenarios,
      http: httpScenarios,
      restarts: restartScenarios,
      'flow-control': flowControlScenarios,
    };
    for (const [group, scenarios] of Object.entries(groups))
      if (!opts.only || opts.only.includes(group as ScenarioGroup)) scenarios(kit);
  });
}
