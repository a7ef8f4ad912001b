/**
 * Whether a process drives a run of the embedded (file) store, from the files drivers hold: the run's lease
 * `<store>/runs/<runId>.driver` (a `run`, `resume`, `serve`, `ui` or `approve` driving it now), else
 * `<store>/serve.lock` (a `serve` or `ui` takes up every run nobody drives within a second of seeing it). A holder this
 * host cannot judge (another host, another container) counts as driving: nothing is claimed that cannot be known.
 * `status`, `watch` and the dashboard say what a run nobody drives needs (runtime/driver-waits.ts).
 */
import { join } from 'node:path';
import { lockState } from '../store/lock.js';

/** Who drives the run: its lease's holder, the store's serve, or nobody (null). */
export type RunDriverState = { by: 'lease' | 'serve'; pid: number | null } | null;

export async function runDriver(storeDir: string, runId: string): Promise<RunDriverState> {
  const lease = await lockState(join(storeDir, 'runs', `${runId}.driver`));
  if (lease.state !== 'free') return { by: 'lease', pid: lease.pid };
  const serve = await lockState(join(storeDir, 'serve.lock'));
  if (serve.state !== 'free') return { by: 'serve', pid: serve.pid };
  return null;
}
