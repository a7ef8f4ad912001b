/**
 * The run routes of the HTTP app: the runs page's query, one run's detail, events, state as of an event, statechart and
 * live streams, and the actions on a run (approve, signal, cancel, ...). Apart from app.ts so the app's auth and
 * middleware read on their own; createApp calls runRoutes in place.
 */
import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { machineJson } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { foldEvents, latestWorkflow, runOrigin, runView } from '../runtime/index.js';
import { Engine } from '../local/index.js';
import { BlobAlteredError } from '../errors/index.js';
import { foldLoaded, keylessView, withChildrenShown } from '../executor/index.js';
import type { Actions, Actor } from './actions.js';
import type { Backend } from './backend.js';
import { attemptInputs } from './attempt-inputs.js';
import { runLinks } from './run-links.js';
import { ApiError } from './errors.js';
import { runDetail } from './run-detail.js';
import { startedBy, ViewedRuns } from './viewed-runs.js';
import { progressRoutes } from './progress-routes.js';
import { jsonBody, keepAlive } from './http.js';
import { parseRunQuery, track } from '../query/index.js';
import {
  checkSignal,
  ControlBody,
  DecisionBody,
  ForkBody,
  ResumeBody,
  parseBody,
  RetryBody,
  SignalBody,
} from './schemas.js';

/** Rows of a runs page when the request gives no `limit`. */
export const DEFAULT_PAGE = 50;

export function runRoutes(
  // biome-ignore lint/suspicious/noExplicitAny: the app's own Env (its auth variable) is app.ts's; these routes only read the actor through `actor`.
  app: Hono<any>,
  backend: Backend,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  actor: (c: Context<any>) => Actor,
  asOf: (as: string | undefined) => string | undefined,
): void {
  const reader = new Engine({ store: backend.store });
  const runExists = async (id: string) => {
    if ((await backend.store.lastSeq(id)) === 0)
      throw new ApiError(404, 'LF_RUN_NOT_FOUND', `run ${id} does not exist in this store`);
  };

  // The run page's fold of the runs it shows, continued as they move on: its view and its progress stream read it.
  const viewed = new ViewedRuns(backend.store);
  progressRoutes(app, backend, reader, viewed, runExists);

  // A page of 50 unless `limit` says otherwise (the index answers every match when no limit is given).
  app.get('/api/runs', async (c) => {
    // `where` may be given more than once (?where=customer=42&where=region=eu): every condition holds.
    const where = c.req.queries('where');
    const q = parseRunQuery({ ...c.req.query(), ...(where ? { where } : {}) }, 'http', Date.now());
    return c.json(await backend.runs.query({ limit: DEFAULT_PAGE, ...q }));
  });

  app.get('/api/runs/:id', async (c) => c.json(await runDetail(backend, reader, viewed, c.req.param('id'))));

  // The body of a large payload kept apart from the events (a reference's digest, as the events show it), as its JSON.
  app.get('/api/blobs/:digest', async (c) => {
    const digest = c.req.param('digest');
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new ApiError(400, 'LF_INPUT_INVALID', `"${digest}" is not a payload digest (sha256:<64 hex>)`, {
        field: 'digest',
      });
    const blobs = backend.store.blobs?.();
    const missing = () =>
      new ApiError(404, 'LF_BLOB_MISSING', `the store has no payload ${digest}`, { field: 'digest' });
    // Read whole once before the answer starts, the store checking it as it reads (a body changed in the store is
    // LF_BLOB_ALTERED, 409, not a 200 of the wrong bytes), then sent as a stream the store checks again as it goes (it
    // ends short should the body change meanwhile).
    const check = blobs ? await blobs.open(digest) : null;
    if (!check) throw missing();
    try {
      for await (const _ of check);
    } catch (err) {
      if (err instanceof BlobAlteredError) throw new ApiError(409, err.code, err.message, { field: 'digest' });
      throw err;
    }
    const body = await blobs!.open(digest);
    if (!body) throw missing();
    return new Response(Readable.toWeb(Readable.from(body)) as ReadableStream, {
      headers: { 'content-type': 'application/json' },
    });
  });

  app.get('/api/runs/:id/events', async (c) => {
    const events = await reader.events(c.req.param('id'));
    return c.json({ events: events.map(eventJson) });
  });

  app.get('/api/runs/:id/at/:seq', async (c) => {
    const id = c.req.param('id');
    const seq = Number(c.req.param('seq'));
    if (!Number.isInteger(seq) || seq < 1)
      throw new ApiError(400, 'LF_INPUT_INVALID', 'seq: an event sequence number (1 or more)', { field: 'seq' });
    await runExists(id);
    const events = await backend.store.read(id, { toSeq: seq });
    if (events.length < seq)
      throw new ApiError(404, 'LF_EVENT_NOT_FOUND', `run ${id} has ${events.length} events; there is no event ${seq}`);
    // The whole page as of that event: the record (agents, result), the linked runs as they were then; a large payload a
    // DECISION read loaded first where this process has not (foldLoaded).
    const { compiled, snapshot, record, inputs } = await foldLoaded(backend.store.blobs?.(), () => {
      const folded = foldEvents(events);
      // The record from that fold (track's `after`: the same record as recordOf, no second fold).
      return { ...folded, record: track(events, folded).record, inputs: attemptInputs(events) };
    });
    const last = events.at(-1)!;
    return c.json({
      run: {
        ...(await withChildrenShown(
          backend.store,
          id,
          keylessView(backend.store, events, snapshot, runView(snapshot, seq, compiled.definition)),
        )),
        ...runOrigin(events),
      },
      event: eventJson(last),
      inputs,
      record,
      ...(await runLinks(backend, id, last.time)),
    });
  });

  app.get('/api/runs/:id/statechart', async (c) => {
    const id = c.req.param('id');
    await firstEvent(id);
    const { definition } = latestWorkflow(await backend.store.read(id)); // a migrated run's: its new version's
    c.header('Content-Disposition', `attachment; filename="${definition.id}-v${definition.version}.statechart.json"`);
    c.header('Content-Type', 'application/json; charset=utf-8');
    return c.body(machineJson(definition));
  });

  app.get('/api/runs/:id/stream', async (c) => {
    const id = c.req.param('id');
    await runExists(id);
    const after = Number(c.req.query('after') ?? c.req.header('last-event-id') ?? (await backend.store.lastSeq(id)));
    return streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      // The header's record with each batch, continued from the events followed (not folded again from the whole log).
      const record = backend.runs.followRecord(id);
      const sub = backend.store.follow(id, Number.isInteger(after) && after >= 0 ? after : 0, (events) => {
        queue = queue
          .then(async () => {
            await stream.writeSSE({
              event: 'events',
              id: String(events.at(-1)!.seq),
              data: JSON.stringify(events.map(eventJson)),
            });
            const now = await record.next(events);
            if (now) await stream.writeSSE({ event: 'record', data: JSON.stringify(now) });
          })
          .catch(() => undefined);
      });
      await keepAlive(stream, () => sub.close());
    });
  });

  app.get('/api/stream', (c) =>
    streamSSE(c, async (stream) => {
      let queue = Promise.resolve();
      const sub = backend.runs.subscribe((record) => {
        queue = queue
          .then(() => stream.writeSSE({ event: 'record', data: JSON.stringify(record) }))
          .catch(() => undefined);
      });
      await keepAlive(stream, () => sub.close());
    }),
  );

  // A run's actions (actions.ts: through the run API, as the request's actor), on a run that exists, the body checked first.
  const onRun = <B>(
    action: string,
    parse: (raw: unknown) => B,
    act: (acts: Actions, id: string, body: B) => Promise<unknown>,
  ) =>
    app.post(`/api/runs/:id/${action}`, async (c) => {
      const id = c.req.param('id') ?? '';
      const body = parse(await jsonBody(c));
      await runExists(id);
      return c.json(await act(backend.actions(actor(c)), id, body));
    });
  for (const decision of ['approve', 'reject'] as const) {
    onRun(
      decision,
      (raw) => parseBody(DecisionBody, raw),
      (a, id, b) => a.decide(id, b.task, decision === 'approve' ? 'approved' : 'rejected', b.comment, asOf(b.as)),
    );
  }
  onRun(
    'signal',
    (raw) => {
      const b = parseBody(SignalBody, raw);
      checkSignal(b.name, b.data);
      return b;
    },
    (a, id, b) => a.signal(id, b.name, b.data, asOf(b.as)),
  );
  for (const action of ['cancel', 'pause'] as const)
    onRun(
      action,
      (raw) => parseBody(ControlBody, raw),
      (a, id, b) => a[action](id, b.reason, asOf(b.as)),
    );
  onRun(
    'resume',
    (raw) => parseBody(ResumeBody, raw),
    (a, id, b) => a.resume(id, asOf(b.as)),
  );
  onRun(
    'retry',
    (raw) => parseBody(RetryBody, raw),
    (a, id, b) => a.retry(id, asOf(b.as)),
  );
  onRun(
    'fork',
    (raw) => parseBody(ForkBody, raw),
    (a, id, b) => a.fork(id, String(b.at), b.input, b.reset),
  );

  async function firstEvent(id: string): Promise<Extract<EventEnvelope, { type: 'run.started' }>> {
    return startedBy(id, await backend.store.read(id, { toSeq: 1 }));
  }
}

function eventJson(e: EventEnvelope) {
  return { seq: e.seq, time: e.time, type: e.type, data: e.data, state: e.state };
}
