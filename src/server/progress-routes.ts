/**
 * GET /api/runs/:id/progress: a run's progress as server-sent events (docs/dashboard.md#http-api-srcserver). Each
 * `progress` event is `{ seq, tasks: { <instance>: { fraction, message, at, attempt, live, startedAt, eta } } }`, sent
 * when it changes: live values read from the store's progress channel every PROGRESS_POLL_MS (they are never
 * events of the run), the values outcomes kept read again when the log grows. Behind the same sign-in as every /api
 * route (app.ts); the run page draws its bars from it.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Engine } from '../local/index.js';
import { progressOf, type TaskProgress } from '../progress/index.js';
import type { RunView } from '../runtime/index.js';
import type { Backend } from './backend.js';
import { keepAlive } from './http.js';

/** How often the live values are read: the reporters write at most every 250 ms. */
const PROGRESS_POLL_MS = 250;

export function progressRoutes(
  // biome-ignore lint/suspicious/noExplicitAny: the app's own Env is app.ts's; this route reads no auth variable.
  app: Hono<any>,
  backend: Backend,
  reader: Engine,
  runExists: (id: string) => Promise<void>,
): void {
  app.get('/api/runs/:id/progress', async (c) => {
    const id = c.req.param('id');
    await runExists(id);
    return streamSSE(c, async (stream) => {
      let view: RunView | null = null;
      let kept = new Map<string, TaskProgress>();
      let sent = '';
      let busy = false;
      const tick = async () => {
        if (busy || stream.closed || stream.aborted) return;
        busy = true;
        try {
          const seq = await backend.store.lastSeq(id);
          // The view (which attempts are in flight) and the kept values, again only when the log has grown.
          if (!view || seq !== view.seq) {
            view = await reader.status(id);
            kept = progressOf(view, [], await backend.store.read(id));
          }
          const live = progressOf(view, (await backend.progress?.read(id).catch(() => [])) ?? []);
          const tasks = Object.fromEntries([...kept, ...live]);
          const text = JSON.stringify({ seq: view.seq, tasks });
          if (text !== sent) {
            sent = text;
            await stream.writeSSE({ event: 'progress', data: text });
          }
        } catch {
          // A read that failed (the store busy, a connection lost) is tried again at the next tick.
        } finally {
          busy = false;
        }
      };
      await tick();
      const timer = setInterval(() => void tick(), PROGRESS_POLL_MS);
      await keepAlive(stream, () => clearInterval(timer));
    });
  });
}
