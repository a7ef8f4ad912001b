/** `--metrics-port` / `--metrics-host` of `serve` and `engine`. */
import type { ClusterEngine } from '../cluster/index.js';
import { UsageError } from '../errors/index.js';
import type { CommitHook, LedgerflowMetrics } from '../metrics/index.js';

/**
 * `--metrics-port` (and `--metrics-host`): the metrics of the runs this process drives, served at
 * /metrics from now on; null without the flag (prom-client is then not even loaded).
 */
export async function metricsFlags(opts: { metricsPort?: string; metricsHost?: string }, say: (line: string) => void): Promise<{ onCommit: CommitHook; metrics: LedgerflowMetrics; close(): Promise<void> } | null> {
  if (opts.metricsPort === undefined) {
    if (opts.metricsHost !== undefined) throw new UsageError('--metrics-host needs --metrics-port', {});
    return null;
  }
  const { createMetrics, metricsListenFlags, serveMetrics } = await import('../metrics/index.js');
  const listen = metricsListenFlags(opts.metricsPort, opts.metricsHost);
  const metrics = createMetrics({ log: say });
  const server = await serveMetrics(metrics, listen, say);
  say(`metrics at ${server.url}`);
  return { onCommit: metrics.hooks.onCommit, metrics, close: async () => { metrics.close(); await server.close(); } };
}

/** The gauges of the runs active when the engine started (src/metrics/pick-up.ts), read through the run index. */
export async function showActiveRuns(engine: ClusterEngine, metrics: LedgerflowMetrics, log: (line: string) => void, stopped: () => boolean): Promise<void> {
  const [{ reportActiveRuns }, { openRunIndex }, { loadRun }] = await Promise.all([import('../metrics/index.js'), import('../query/index.js'), import('../executor/index.js')]);
  const index = openRunIndex({ store: engine.store });
  try {
    await reportActiveRuns(index, async (runId) => (await loadRun(engine.store, runId, engine.snapshots))?.snapshot ?? null, (s) => metrics.observeRun(s), { log, stopped });
  } catch (err) {
    if (!stopped()) log(`metrics: the runs already active are shown in the gauges from their next commit only: ${(err as Error).message}`);
  } finally {
    await index.close();
  }
}
