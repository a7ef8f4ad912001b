/**
 * On NATS, a task whose handler no worker announces says so in `status`:
 * the engines hear workers' presence (cluster/transport/presence.ts) and
 * answer who serves what; nobody answering (no engine runs) says nothing.
 */
import type { Definition } from '../definition/index.js';
import { markUnserved, workerWaits, type RunView } from '../runtime/index.js';
import { usesNats, type GlobalOpts } from './store.js';

export async function withUnserved(g: GlobalOpts, definition: Definition, view: RunView): Promise<RunView> {
  if (!usesNats(g)) return view;
  const waits = workerWaits(definition, view);
  if (waits.length === 0) return view;
  // Loaded here, not at the top: `status` on the embedded store never loads the nats client.
  const [{ askPresence, unserved }, { withClient }] = await Promise.all([import('../cluster/transport/presence.js'), import('./cluster.js')]);
  const report = await withClient(g, async (c) => askPresence(await c.store.connection()));
  return markUnserved(view, waits, (queue, handler) => unserved(report, queue, handler));
}
