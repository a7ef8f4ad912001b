/**
 * An operator's hands over HTTP (docs/operations.md): bulk actions by query, a workflow's schedule actions, circuit
 * breakers. Each is the CLI's own action, judged by the signed-in person's level (L1 with a users file).
 */
import type { Context, Hono } from 'hono';
import { allBreakers } from '../limits/index.js';
import type { Actor } from './actions.js';
import type { Backend } from './backend.js';
import { bulkAction } from './bulk.js';
import { migrateRoute } from './migrate.js';
import { jsonBody } from './http.js';
import { scheduleActionOf } from './schedule-actions.js';
import { BreakerBody, parseBody } from './schemas.js';

// biome-ignore lint/suspicious/noExplicitAny: the app's own Env (its auth variable) is app.ts's; these routes only read the actor through `actor`.
export function operationRoutes(app: Hono<any>, backend: Backend, actor: (c: Context<any>) => Actor): void {
  app.post('/api/bulk/:action', async (c) =>
    c.json(await bulkAction(backend.runs, backend.actions(actor(c)), c.req.param('action'), await jsonBody(c))),
  );
  // `ledgerflow migrate <workflow>` over HTTP: a dry run's verdicts, or (with the count confirmed) the migration, the same JSON.
  app.post('/api/definitions/:id/migrate', async (c) =>
    c.json(await migrateRoute(backend, backend.actions(actor(c)), c.req.param('id'), await jsonBody(c))),
  );
  // A person's hand on a workflow's schedules, as `ledgerflow schedules pause|resume|trigger|backfill` (L1).
  app.post('/api/schedules/:workflow/:action{pause|resume|trigger|backfill}', async (c) =>
    c.json(
      await backend
        .actions(actor(c))
        .schedule(scheduleActionOf(c.req.param('workflow'), c.req.param('action'), await jsonBody(c))),
    ),
  );
  // Every circuit breaker met in the store and its state now: what `ledgerflow limits show --json` prints as `breakers`.
  app.get('/api/breakers', async (c) => c.json({ breakers: await allBreakers(backend.store, Date.now()) }));
  // An operator's hand: as `ledgerflow breaker open|close`, judged by the signed-in person's level (L1).
  app.post('/api/breakers/:to{open|close}', async (c) =>
    c.json(
      await backend
        .actions(actor(c))
        .breaker(parseBody(BreakerBody, await jsonBody(c)).name, c.req.param('to') as 'open' | 'close'),
    ),
  );
}
