/**
 * GET /api/runs/:id/progress: a run's progress as server-sent events (docs/dashboard.md#http-api-srcserver). Each
 * `progress` event is `{ seq, tasks: { <instance>: { fraction, message, at, attempt, live, startedAt, eta } } }`, sent
 * when it changes, at most one per PROGRESS_EVENT_MS. Nothing is read on a timer: the store's progress channel pushes
 * the live values (its `watch`: one KV watch on NATS, an fs.watch of the run's folder on the embedded store; they are
 * never events of the run), and the run's view and the values outcomes kept are read again only when the log grows
 * (the store's `follow`, with a slow `lastSeq` look in case a follower misses a commit). A read that fails is written
 * once to the server's stderr and tried again. Behind the same sign-in as every /api route (app.ts); the run page draws
 * its bars from it.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { errorMessage } from '../errors/index.js';
import type { Engine } from '../local/index.js';
import { progressOf, type LiveProgress, type TaskProgress } from '../progress/index.js';
import type { RunView } from '../runtime/index.js';
import type { Backend } from './backend.js';
import { keepAlive } from './http.js';
import type { ViewedRuns } from './viewed-runs.js';

/** At most one event per this many ms (the reporters write at most every 250 ms). */
const PROGRESS_EVENT_MS = 250;
/** How often the log's end is looked at besides following it (a commit a follower missed); cheap: one lastSeq. */
const SEQ_CHECK_MS = 5000;
/** How long a value gone from the channel is still sent while the log has not yet recorded its attempt's end. */
const HOLD_GONE_MS = 2000;
/** How soon a read that failed is tried again. */
const RETRY_MS = 1000;

export function progressRoutes(
  // biome-ignore lint/suspicious/noExplicitAny: the app's own Env is app.ts's; this route reads no auth variable.
  app: Hono<any>,
  backend: Backend,
  reader: Engine,
  viewed: ViewedRuns,
  runExists: (id: string) => Promise<void>,
  log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): void {
  app.get('/api/runs/:id/progress', async (c) => {
    const id = c.req.param('id');
    await runExists(id);
    return streamSSE(c, async (stream) => {
      let view: RunView | null = null;
      let kept = new Map<string, TaskProgress>();
      let live: LiveProgress[] = [];
      let held: LiveProgress[] = [];
      let holdTimer: ReturnType<typeof setTimeout> | undefined;
      let logGrew = true;
      let sent = '';
      let sentAt = 0;
      let busy = false;
      let again = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let failing = false;
      const over = () => stream.closed || stream.aborted;

      // When the last read of the view ended and how long it took: a run of 40,000 events takes a second or more to
      // fold, and a log that grows without pause (a MAP's items) would have it read back to back.
      let readAt = 0;
      let readMs = 0;
      // Coalesced: a change asks for an event; it goes at once, or when PROGRESS_EVENT_MS has passed since the last,
      // and no sooner after the last read than that read took (reading costs the server at most half its time).
      const schedule = (wait = Math.max(0, sentAt + PROGRESS_EVENT_MS - Date.now(), readAt + readMs - Date.now())) => {
        if (over()) return;
        if (busy) {
          again = true;
          return;
        }
        if (timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          void send();
        }, wait);
      };
      const send = async () => {
        if (busy || over()) return;
        busy = true;
        try {
          // The view (which attempts are in flight) and the kept values, again only when the log has grown.
          if (logGrew || !view) {
            logGrew = false;
            const began = Date.now();
            // The run page's fold of the run, read on from its last ask (viewed-runs.ts): a run of 40,000 events read
            // and folded whole took half a second.
            const { loaded } = await viewed.view(id);
            view = await reader.commits.statusOf(loaded);
            kept = progressOf(view, [], loaded.events);
            readAt = Date.now();
            readMs = readAt - began;
          }
          const tasks = Object.fromEntries([...kept, ...progressOf(view, [...held, ...live])]);
          const text = JSON.stringify({ seq: view.seq, tasks });
          if (failing) log(`ui: progress of run ${id}: reading again`);
          failing = false;
          if (text !== sent) {
            sent = text;
            sentAt = Date.now();
            await stream.writeSSE({ event: 'progress', data: text });
          }
        } catch (err) {
          // Said once (not four times a second), then tried again until it reads.
          if (over()) return;
          if (!failing) log(`ui: progress of run ${id}: ${errorMessage(err)} (trying again)`);
          failing = true;
          logGrew = true;
          again = false;
          busy = false;
          schedule(RETRY_MS);
          return;
        } finally {
          busy = false;
        }
        if (again) {
          again = false;
          schedule();
        }
      };

      // The first event carries the values in flight now (the watch's first push comes after it): read once.
      live = (await backend.progress?.read(id).catch(() => [] as LiveProgress[])) ?? [];
      await send();
      const grew = () => {
        logGrew = true;
        schedule();
      };
      const follow = backend.store.follow(id, view ? (view as RunView).seq : 0, grew);
      const seqCheck = setInterval(() => {
        void backend.store.lastSeq(id).then(
          (seq) => {
            if (view && seq !== view.seq) grew();
          },
          () => undefined,
        );
      }, SEQ_CHECK_MS);
      const unwatch = backend.progress?.watch(id, (values) => {
        // A value that went is an attempt that ended: its process removes it just before recording the outcome (with
        // the value it kept). Held until the log says so (the view read again drops it, and the kept one shows), for
        // at most HOLD_GONE_MS: else the stream would send the task with no value between its live and its kept one.
        const gone = live.filter((p) => !values.some((v) => v.instance === p.instance && v.attempt === p.attempt));
        live = values;
        if (gone.length > 0) {
          held = gone;
          clearTimeout(holdTimer);
          holdTimer = setTimeout(() => {
            held = [];
            schedule();
          }, HOLD_GONE_MS);
        }
        schedule();
      });
      await keepAlive(stream, () => {
        if (timer) clearTimeout(timer);
        clearTimeout(holdTimer);
        clearInterval(seqCheck);
        follow.close();
        unwatch?.();
      });
    });
  });
}
