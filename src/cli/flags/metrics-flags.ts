/** `--metrics-port` / `--metrics-host` of `serve` and `engine`. */
import { UsageError } from '../../errors/index.js';
import type { CommitHook, LedgerflowMetrics } from '../../metrics/index.js';

/**
 * `--metrics-port` (and `--metrics-host`): the metrics of the runs this process drives, served at /metrics from now on;
 * null without the flag (prom-client is then not even loaded).
 */
export async function metricsFlags(
  opts: { metricsPort?: string; metricsHost?: string },
  say: (line: string) => void,
): Promise<{ onCommit: CommitHook; metrics: LedgerflowMetrics; close(): Promise<void> } | null> {
  if (opts.metricsPort === undefined) {
    if (opts.metricsHost !== undefined) throw new UsageError('--metrics-host needs --metrics-port', {});
    return null;
  }
  const { createMetrics, metricsListenFlags, serveMetrics } = await import('../../metrics/index.js');
  const listen = metricsListenFlags(opts.metricsPort, opts.metricsHost);
  const metrics = createMetrics({ log: say });
  const server = await serveMetrics(metrics, listen, say);
  say(`metrics at ${server.url}`);
  return {
    onCommit: metrics.hooks.onCommit,
    metrics,
    close: async () => {
      metrics.close();
      await server.close();
    },
  };
}
