/**
 * What a running run waits for that nothing provides, said in `status`:
 * - on NATS, a task whose handler no worker announces: the engines hear
 *   workers' presence (cluster/transport/presence.ts) and answer who serves
 *   what; nobody answering (no engine runs) says nothing;
 * - on the embedded store, a run no process drives (left by `start --detach`,
 *   a schedule's trigger, a killed process): its lease and serve.lock say so
 *   (service/driven.ts), and the run and its waiting tasks name what would.
 */
import type { Definition } from '../../definition/index.js';
import { markUndriven, markUnserved, needsDriver, workerWaits, type RunView } from '../../runtime/index.js';
import { localDir, usesNats, type GlobalOpts } from '../flags/store.js';

export async function withUnserved(g: GlobalOpts, definition: Definition, view: RunView): Promise<RunView> {
  if (!usesNats(g)) return withDriver(g, view);
  const waits = workerWaits(definition, view);
  if (waits.length === 0) return view;
  // Loaded here, not at the top: `status` on the embedded store never loads the nats client.
  const [{ askPresence, unserved }, { withClient }] = await Promise.all([
    import('../../cluster/transport/presence.js'),
    import('../commands/cluster.js'),
  ]);
  const report = await withClient(g, async (c) => askPresence(await c.store.connection()));
  return markUnserved(view, waits, (queue, handler) => unserved(report, queue, handler));
}

/** The embedded store: the view marked undriven when it needs a driver and no process holds its lease or the store's serve.lock. */
async function withDriver(g: GlobalOpts, view: RunView): Promise<RunView> {
  if (!needsDriver(view)) return view;
  const { runDriver } = await import('../../service/index.js');
  return (await runDriver(localDir(g), view.runId)) === null ? markUndriven(view) : view;
}
