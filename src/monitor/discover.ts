/**
 * New runs as they appear in a store, for `watch --workflow` / `--all`: run ids only (the live loop reads each).
 *
 * - file store: fs.watch on `runs/` (a new `<runId>.jsonl`), with a listing every few seconds for the changes watch
 *   misses;
 * - JetStream: an ordered consumer on the runs' subjects from now on, headers only (no commit bodies travel), resumed
 *   from the last message it saw;
 * - any other store: listRuns every few seconds.
 *
 * Only runs that appear after `ready` are reported (list the others then); a run id may be reported more than once.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { DeliverPolicy, isArchiveMarkerMsg, jetstream, jetstreamManager } from '../store/index.js';
import { FileEventStore, JetStreamEventStore, type EventStore, type Subscription } from '../store/index.js';
import { errorMessage } from '../errors/index.js';

/** How often a listing looks for runs the faster path missed (ms). */
const DISCOVERY_POLL_MS = 2000;

const RUN_FILE = /^([A-Za-z0-9_-]{1,128})\.jsonl$/;

/** A discovery: `ready` resolves once every run that appears from then on will be reported (list the existing ones after it). */
export interface Discovery extends Subscription {
  ready: Promise<void>;
}

export function discoverRuns(
  store: EventStore,
  workflowId: string | undefined,
  onRun: (runId: string) => void,
  pollMs = DISCOVERY_POLL_MS,
): Discovery {
  if (store instanceof FileEventStore) return fileDiscovery(store.runsDir, onRun, pollMs);
  if (store instanceof JetStreamEventStore) return natsDiscovery(store, workflowId, onRun);
  return pollDiscovery(
    async () => (await store.listRuns(workflowId ? { workflowId } : {})).map((r) => r.runId),
    onRun,
    pollMs,
    () => undefined,
  );
}

/**
 * Lists now and then; reports the ids that were not there at the first listing (`ready`). `also` gives a faster path
 * (fs.watch) the same de-duplicating `notice`.
 */
function pollDiscovery(
  list: () => Promise<string[]>,
  onRun: (runId: string) => void,
  pollMs: number,
  also: (notice: (runId: string) => void) => (() => void) | undefined,
): Discovery {
  const seen = new Set<string>();
  let seeded = false;
  const notice = (runId: string) => {
    if (seen.has(runId)) return;
    seen.add(runId);
    if (seeded) onRun(runId);
  };
  const ready = list()
    .then(
      (ids) => {
        for (const id of ids) seen.add(id);
      },
      () => undefined,
    )
    .then(() => {
      seeded = true;
    });
  const stop = also(notice);
  const timer = setInterval(
    () =>
      void ready.then(list).then(
        (ids) => ids.forEach(notice),
        () => undefined,
      ),
    pollMs,
  );
  timer.unref();
  return {
    ready,
    close: () => {
      stop?.();
      clearInterval(timer);
    },
  };
}

function fileDiscovery(runsDir: string, onRun: (runId: string) => void, pollMs: number): Discovery {
  const idOf = (name: string | null) => (name ? RUN_FILE.exec(name)?.[1] : undefined);
  const list = async () =>
    (await readdir(runsDir).catch(() => [] as string[])).map(idOf).filter((id): id is string => id !== undefined);
  return pollDiscovery(list, onRun, pollMs, (notice) => {
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(runsDir, { persistent: false }, (_e, name) => {
        const id = idOf(name);
        if (id) notice(id);
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // no runs/ yet, or no inotify: the listing finds new runs
    }
    return () => watcher?.close();
  });
}

function natsDiscovery(
  store: JetStreamEventStore,
  workflowId: string | undefined,
  onRun: (runId: string) => void,
): Discovery {
  const prefix = store.subjectPrefix;
  let closed = false;
  let messages: ConsumerMessages | undefined;
  let nextSeq = 0;
  let started!: () => void;
  const ready = new Promise<void>((r) => {
    started = r;
  });
  void (async () => {
    for (let pause = 100; !closed; pause = Math.min(pause * 2, 5000)) {
      try {
        const nc = await store.connection();
        // From the stream's end as it is now (StartSequence: nats.js's ordered consumer sends a start sequence whatever the policy).
        if (nextSeq === 0) nextSeq = (await (await jetstreamManager(nc)).streams.info(store.stream)).state.last_seq + 1;
        started();
        const opts = {
          filter_subjects: `${prefix}.${workflowId ?? '*'}.*`,
          headers_only: true,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: nextSeq,
        };
        const consumer = await jetstream(nc).consumers.get(store.stream, opts);
        if (closed) return;
        messages = await consumer.consume({
          expires: 5000,
          callback: (m) => {
            nextSeq = m.seq + 1;
            if (isArchiveMarkerMsg(m)) return; // a run moving to the archive, not a new one
            const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
            if (RUN_FILE.test(`${runId}.jsonl`)) onRun(runId);
          },
        });
        if (closed) return void messages.close().catch(() => undefined);
        pause = 100;
        await messages.closed();
      } catch (err) {
        if (!closed)
          process.emitWarning(
            `ledgerflow: watching for new runs on JetStream stream ${store.stream}: ${errorMessage(err)}`,
            'LedgerflowWatchWarning',
          );
      }
      if (!closed) await new Promise((r) => setTimeout(r, pause).unref());
    }
  })();
  return {
    ready,
    close: () => {
      closed = true;
      started();
      void messages?.close().catch(() => undefined);
    },
  };
}
