/** The store side (store-side.ts) of NATS JetStream: one client for the command, closed when it ends. */
import {
  askPresence,
  ClusterClient,
  KvGateStore,
  KvScheduleCursor,
  natsSettings,
  ProgressBucket,
  StreamGateLog,
} from '../cluster/index.js';
import { markUnserved, workerWaits } from '../runtime/index.js';
import { natsRuns } from '../runs/nats.js';
import { cacheFolder } from './cached-code.js';
import { jetstream, jetstreamManager } from '../store/index.js';
import { natsUrl } from './commands/cluster.js';
import { defaultActor } from './flags/input-flags.js';
import { closeAtEnd, type GlobalOpts } from './flags/store.js';
import type { StoreSide } from './store-side.js';
import { ringOf, sealedProgress } from '../encryption/index.js';

export function natsSide(g: GlobalOpts): StoreSide {
  let opened: ClusterClient | undefined;
  const client = () => (opened ??= closeAtEnd(new ClusterClient(natsUrl(g), natsSettings())));
  const buckets = () => {
    const { replicas, storage } = natsSettings().cluster;
    return { ...(replicas ? { replicas } : {}), ...(storage ? { storage } : {}) };
  };
  return {
    runs: async () => {
      // The CLI's cache folder (its code cache's): where `list` keeps the runs' start order (jetstream-kept-order.ts).
      const pageCacheDir = cacheFolder() ?? undefined;
      return natsRuns({
        client: client(),
        url: natsUrl(g),
        fallback: defaultActor(),
        ...(pageCacheDir ? { pageCacheDir } : {}),
      });
    },
    acting: async (as) => (as !== undefined ? { name: as } : {}),
    ready: async () => void (await client().conn()),
    mayWrite: () => client().mayWriteLog(),
    progress: () => sealedProgress(new ProgressBucket(() => client().store.connection()), ringOf(client().store)),
    definitions: () => client().deployed(),
    version: (ref) => client().resolve(ref),
    buckets,
    async schedules() {
      const c = client();
      // The bucket is made on first use: with the settings an engine would give it, so `doctor` finds no difference.
      const cursor = new KvScheduleCursor(jetstream(await c.store.connection()), buckets());
      return {
        definitions: await c.deployed(),
        cursors: await cursor.all(),
        store: c.store,
        where: 'the deployed definitions',
      };
    },
    async gates() {
      const nc = await client().store.connection();
      const js = jetstream(nc);
      return {
        store: new KvGateStore(js, buckets()),
        log: new StreamGateLog(js, await jetstreamManager(nc), buckets()),
      };
    },
    async unserved(definition, view) {
      const waits = workerWaits(definition, view);
      if (waits.length === 0) return view;
      const { unserved } = await import('../cluster/transport/presence.js');
      const report = await askPresence(await client().store.connection());
      return markUnserved(view, waits, (queue, handler) => unserved(report, queue, handler));
    },
    async agents() {
      const [{ workerRows }, report] = await Promise.all([
        import('../coordination/index.js'),
        client()
          .store.connection()
          .then((nc) => askPresence(nc)),
      ]);
      return { rows: workerRows(report?.workers ?? [], Date.now()), store: client().store };
    },
    keepsStateFile: false,
    says: {
      log: 'the stream',
      movesOn: 'the engines move them on',
      noAgents: 'no worker or agent announces itself (or no engine runs to hear them)',
    },
  };
}
