/**
 * The NATS executor for the contract: two ClusterEngines sharing the runs on
 * the file's own nats-server (the cluster fixture, started once for the
 * file), one worker per scenario connected as nats.conf's restricted `worker`
 * user with the scenario's handlers and a command executor, and people acting
 * through clients connected as their own NATS users (their name is the `by`
 * the engines record). A restart is the executor dying: the worker stops
 * without letting its attempts finish (they go back to the queue, unreported)
 * and the engines are replaced by new ones.
 */
import { SETTLED_STATUSES } from '../../src/events/index.js';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { COMMAND_HANDLER, HTTP_HANDLER, type RunView } from '../../src/runtime/index.js';
import { createCommandExecutor, createHttpExecutor } from '../../src/handlers/index.js';
import { def } from '../helpers/engine.js';
import { useCluster, type Cluster } from '../helpers/cluster.js';
import type { Worker } from '../../src/cluster/index.js';
import { natsRuns } from '../../src/runs/index.js';
import { runsSession, type Executor, type ScenarioSetup, type Session } from './contract.js';

const ENGINES = 2;
const VERDICT_MS = 10_000;
/**
 * The attempts' ack wait: how long an attempt handed back by a worker that died waits before it is delivered
 * again. A third of the default (10 s), so that the restart scenarios do not spend most of their time waiting
 * on it; long enough that a loaded machine still heartbeats within it.
 */
const SETTINGS = { taskAckWaitMs: 4_000 };

/**
 * `handlersOn: 'engines'`: the handlers run in an engine's own process, as `ledgerflow engine --handlers`
 * runs them (a worker connected as the engine user), instead of on a remote worker connected as `worker`.
 */
export function natsExecutor(opts: { handlersOn?: 'workers' | 'engines' } = {}): Executor {
  const c = useCluster({ engines: ENGINES, engine: { settings: SETTINGS } });
  return {
    traits: { restartReason: 'worker_lost', abortsRunningHandlers: false, childOutcomeBy: 'engine' },
    open: (setup) => openNats(c, setup, opts.handlersOn ?? 'workers'),
  };
}

async function openNats(
  c: Cluster,
  { workflows, handlers }: ScenarioSetup,
  handlersOn: 'workers' | 'engines',
): Promise<Session> {
  for (const yaml of workflows) await c.client.deploy(def(yaml));
  // The worker user may not make its consumers (an engine makes one when it first hands out an attempt, and the
  // worker polls for it): made here at once, so that a scenario does not wait for that.
  const jsm = await c.jsm();
  for (const name of [...Object.keys(handlers), COMMAND_HANDLER, HTTP_HANDLER])
    await ensureWorkerConsumer(jsm, 'default', name, SETTINGS);
  // A grace of 0: a stop is a death, what the worker runs is handed back unreported.
  const onEngine = handlersOn === 'engines' ? { nats: c.url, user: 'engine' } : {};
  const addWorker = () =>
    c.addWorker({
      handlers,
      commands: createCommandExecutor(),
      http: createHttpExecutor({ allow: ['127.0.0.1'] }),
      concurrency: 8,
      stopGraceMs: 0,
      settings: SETTINGS,
      ...onEngine,
    });
  let worker: Worker = await addWorker();
  const started: string[] = [];

  const settled = (v: RunView | null) => !!v && SETTLED_STATUSES.includes(v.status);
  /** The run API as that person: their own NATS user (the name the engines record). */
  const personRuns = (by: string) => natsRuns({ client: c.clientAs(by), url: c.as(by), fallback: by });
  return {
    async start(workflowId, input, how = {}) {
      const { runId } = await c.client.start(workflowId, input, how);
      started.push(runId);
      return runId;
    },
    async retry(runId) {
      const { runId: retryId } = await c.client.retry(runId);
      started.push(retryId);
      return retryId;
    },
    // A person's input through the run API, as the CLI and the dashboard give it (src/runs/): published as that
    // person's own NATS user, the engine's verdict waited for; the reads and waits through it too.
    ...runsSession(
      () => natsRuns({ client: c.client, url: c.url, fallback: 'contract' }),
      (by) => ({ runs: personRuns(by), as: {} }),
    ),
    async restart() {
      // Dying, not a graceful stop: the worker gives nothing back (a clean stop's task.released is
      // test/cli/nats-release.test.ts's), and what an engine holds goes back at once (a grace would only wait on the worker gone).
      await c.stopWorker(worker, { giveBack: false });
      for (const e of [...c.engines]) await c.stopEngine(e, { graceMs: 0 });
      for (let i = 0; i < ENGINES; i++) await c.addEngine();
      worker = await addWorker();
    },
    async close() {
      // A run a failed scenario left behind must not reach the next scenario's worker (handlers may share names).
      for (const runId of started) {
        if (!settled(await c.runs.status(runId)))
          await c
            .clientAs('commander')
            .cancel(runId, { reason: 'scenario over', waitMs: VERDICT_MS })
            .catch(() => undefined);
      }
      await c.stopWorker(worker);
    },
  };
}
