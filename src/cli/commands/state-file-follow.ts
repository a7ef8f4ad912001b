/**
 * The state file kept from a NATS stream (docs/state-file.md): `ledgerflow state-file --follow [PATH]` on any machine,
 * and `ledgerflow engine --state-file PATH`. The stream is asked for its last sequence every half second (one small
 * request, nothing left on the server, and no subscription a reading user may lack the right to); when it has grown,
 * the writer rebuilds the file and the worksets from the stream, at most once a second, as the embedded store's live
 * writer does.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { JetStreamEventStore, jetstreamManager, type EventStore } from '../../store/index.js';
import { StateFileWriter } from '../../state-file/index.js';
import { errorMessage } from '../../errors/index.js';
// The bucket's file alone, not the cluster's index: `state-file` on the embedded store loads this file too (~150 ms).
import { ProgressBucket } from '../../cluster/transport/progress-bucket.js';
import { ringOf, sealedProgress } from '../../encryption/index.js';

/** How often the stream is asked whether it has grown. */
const PROBE_MS = 500;

export interface StateFileFollower {
  /** Resolves once the first write is done (the file shows the stream as it was when following began). */
  ready: Promise<void>;
  /** Stops probing and writes what is pending. */
  stop(): Promise<void>;
}

export function followStateFile(
  store: EventStore,
  o: { path: string; keep: number; warn: (line: string) => void },
): StateFileFollower {
  // The running runs' live progress (docs/state-file.md: not in the log): on NATS one watch of KV LF_PROGRESS, each
  // change a write (coalesced as the stream's growth is). A user who may not read the bucket sees the values kept.
  const mirror =
    store instanceof JetStreamEventStore
      ? new ProgressBucket(() => store.connection()).mirror((runId) => writer.progressed(runId))
      : null;
  // A file of this machine's: no lock of the cluster's for it (the embedded store's processes share theirs).
  const writer: StateFileWriter = new StateFileWriter(store, {
    path: o.path,
    keep: o.keep,
    warn: o.warn,
    lock: !(store instanceof JetStreamEventStore),
    ...(mirror ? { progress: sealedProgress(mirror, ringOf(store)) } : {}),
  });
  let lastSeq = -1;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let warnedAt = -Infinity;
  // One manager for the follower's life: making one per probe was a request of its own each half second.
  let jsm: Promise<JetStreamManager> | undefined;
  const probe = async (): Promise<void> => {
    // A store without a stream to ask (the embedded one): the writer rebuilds, and writes only what changed.
    if (!(store instanceof JetStreamEventStore)) return writer.touch();
    try {
      jsm ??= store.connection().then((nc) => jetstreamManager(nc));
      const seq = (await (await jsm).streams.info(store.stream)).state.last_seq;
      if (seq !== lastSeq) {
        lastSeq = seq;
        writer.touch();
      }
    } catch (err) {
      jsm = undefined; // made again once the server answers
      // The server may be down a while: said once a minute, asked again after.
      if (Date.now() - warnedAt >= 60_000) {
        warnedAt = Date.now();
        o.warn(`state file: cannot read the stream ${store.stream}: ${errorMessage(err)}; trying again`);
      }
    }
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void probe().finally(loop);
    }, PROBE_MS);
  };
  writer.touch();
  const ready = probe()
    .then(() => writer.flushNow())
    .finally(loop);
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      mirror?.stop();
      await ready.catch(() => undefined);
      await writer.close();
    },
  };
}
