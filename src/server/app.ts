/**
 * The HTTP app (Hono): the JSON API under /api/, the browser app's static files from dist/web/, and its page routes.
 * Built from a Backend so the same routes serve the embedded store and NATS. Every error leaves through toHttpError:
 * JSON `{ error }` for the API, a plain HTML page for pages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import { RUN_ID_PATTERN } from '../events/index.js';
import { levelText } from '../authority/index.js';
import {
  authOf,
  checkCsrf,
  clearSessionCookie,
  identifyBy,
  sameSecret,
  setSessionCookie,
  type Sessions,
  type Auth,
} from './auth.js';
import { hostGuard, type AllowedHost } from './host-guard.js';
import type { Users } from './users.js';
import type { Actor } from './actions.js';
import type { Backend } from './backend.js';
import { ApiError, toHttpError } from './errors.js';
import { metricsSummary } from './metrics-summary.js';
import { limitedSignIn, SignInLimiter } from './signin-limit.js';
import { clientAddress, jsonBody } from './http.js';
import { operationRoutes } from './operation-routes.js';
import { editorRoutes } from './editor-routes.js';
import { runRoutes } from './run-routes.js';
import { definitionRoutes } from './definition-routes.js';
import { checkRunIdParam, EmitBody, parseBody, SessionBody, StartBody } from './schemas.js';
import { DEFAULT_MAX_INPUT_BYTES, inputBodies, isInputRoute } from './start-body.js';

export const BODY_LIMIT = 64 * 1024;
export { DEFAULT_PAGE } from './run-routes.js';

export interface AppOptions {
  backend: Backend;
  /** Embedded: the access token; null on NATS (sign-in sessions only). */
  token: string | null;
  /** The name recorded for embedded actions (`--as` overrides it per request). */
  embeddedUser: string;
  sessions: Sessions;
  sessionTtlMs: number;
  /** dist/web: the browser app. */
  webDir: string;
  /** A bearer token that GET /metrics takes besides the UI's own auth (a scraper's), or null. */
  metricsToken?: string | null;
  /** What GET /metrics serves (Prometheus text); absent: 501. */
  metrics?: { contentType: string; text(): Promise<string> } | null;
  /** Failed sign-ins per client address and per user (NATS); default 5 a minute. */
  signInLimit?: SignInLimiter;
  /** Embedded, `--users`: each person's own token (then `token` is null and no `as` is taken). */
  users?: Users | null;
  /** The Host / Origin names answered (host-guard.ts); absent: not checked (an app mounted behind a server of the caller's). */
  allowedHosts?: () => readonly AllowedHost[];
  /** The largest body of a start or an event (start-body.ts); default DEFAULT_MAX_INPUT_BYTES. Other routes: BODY_LIMIT. */
  maxInputBytes?: number;
}

type Env = { Variables: { auth: Auth } };
const PLACEHOLDER =
  '<!doctype html><meta charset="utf-8"><title>ledgerflow</title><h1>ledgerflow</h1><p>The browser app is not built (dist/web/index.html is missing): run <code>npm run build</code>. The JSON API is under <code>/api/</code>.</p>';
const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>`;

export function createApp(o: AppOptions): Hono<Env> {
  const { backend, sessions } = o;
  const limiter = o.signInLimit ?? new SignInLimiter();
  const app = new Hono<Env>();
  const indexHtml = () => {
    const file = join(o.webDir, 'index.html');
    return existsSync(file) ? readFileSync(file, 'utf8') : PLACEHOLDER;
  };
  const identify = identifyBy(o.token, o.embeddedUser, o.users);
  // Who the page says may act: one shared token (any name typed), named users (--users), or NATS users.
  const identity = o.users ? 'users' : o.token !== null ? 'shared-token' : 'nats';
  const isApi = (c: Context) => c.req.path.startsWith('/api/') || c.req.path === '/api' || c.req.path === '/metrics';

  app.onError((err, c) => {
    const { status, body, retryAfter } = toHttpError(err, backend.storeDir);
    if (status >= 500 && !(err instanceof ApiError))
      process.stderr.write(
        `ui: ${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    // A 401 says which door to use (a NATS sign-in or the embedded token), so the page need not read the message.
    // `signIn`: a name and password open a session here (NATS users, or the users file's on the embedded store). Retry-After: NATS did not answer in time.
    if (isApi(c))
      return c.json(
        status === 401 ? { ...body, mode: backend.mode, identity, signIn: backend.signIn !== undefined } : body,
        status as 400,
        retryAfter ? { 'Retry-After': String(retryAfter) } : {},
      );
    return c.html(page(`${status}`, escapeHtml(body.error.message)), status as 400);
  });
  app.notFound((c) =>
    isApi(c)
      ? c.json({ error: { code: 'LF_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404)
      : c.html(page('404', 'no such page'), 404),
  );

  // Before anything else, static files included: a Host or Origin that is not this dashboard's (DNS rebinding, another site).
  if (o.allowedHosts) app.use('*', hostGuard(o.allowedHosts));

  // A strict CSP: only this origin's scripts, styles and connections; nothing framed.
  app.use(
    '*',
    secureHeaders({
      strictTransportSecurity: false,
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    }),
  );

  // Static assets of the browser app need no auth (they hold no data); index.html is a page route below.
  // Made on first use: dist/web may be built after the server started (and serveStatic warns when it is absent).
  let assets: MiddlewareHandler<Env> | null = null;
  app.use('*', async (c, next) => {
    if (
      c.req.method === 'GET' &&
      !isApi(c) &&
      /\.[A-Za-z0-9]+$/.test(c.req.path) &&
      !c.req.path.endsWith('.html') &&
      existsSync(o.webDir)
    ) {
      assets ??= serveStatic<Env>({ root: o.webDir });
      return assets(c, next);
    }
    return next();
  });

  // Bodies: JSON only, at most 64 KiB; a start's or an event's (a run's input) up to maxInputBytes, checked once the
  // request is signed in (start-body.ts, mounted below).
  const ordinaryBodies = bodyLimit({
    maxSize: BODY_LIMIT,
    onError: () => {
      throw new ApiError(413, 'LF_BODY_TOO_LARGE', `request body over ${BODY_LIMIT} bytes`);
    },
  });
  app.use('/api/*', (c, next) => (isInputRoute(c) ? next() : ordinaryBodies(c, next)));
  app.use('/api/*', async (c, next) => {
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method)) {
      const length = c.req.header('content-length');
      const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
      const type = c.req.header('content-type') ?? '';
      if (hasBody && !/^application\/json\s*(;|$)/i.test(type))
        throw new ApiError(
          415,
          'LF_UNSUPPORTED_MEDIA_TYPE',
          `request bodies are JSON: send Content-Type: application/json (got ${type || 'none'})`,
        );
    }
    return next();
  });

  // Sign-in (NATS) needs no session: it makes one.
  app.post('/api/session', async (c) => {
    if (!backend.signIn)
      throw new ApiError(
        400,
        'LF_NO_SIGN_IN',
        'this server runs on the embedded store: open the URL with the token `ledgerflow ui` printed (or send Authorization: Bearer <token>)',
      );
    const { user, password } = parseBody(SessionBody, await jsonBody(c));
    const client = await limitedSignIn(
      limiter,
      clientAddress(c),
      user,
      () => backend.signIn!(user, password),
      (seconds) => c.header('Retry-After', String(seconds)),
    );
    const s = sessions.open(user, client);
    setSessionCookie(c, s, o.sessionTtlMs);
    return c.json({
      user: s.user,
      csrf: s.csrf,
      mode: backend.mode,
      read: await readAccess(backend.actorOf({ via: 'cookie', user, session: s })),
    });
  });

  // A scraper's own token opens /metrics and nothing else (on NATS there is no UI token to give Prometheus).
  app.use('/metrics', async (c, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (o.metricsToken && m && sameSecret(m[1]!, o.metricsToken)) c.set('auth', { via: 'bearer', user: 'metrics' });
    return next();
  });

  // Everything else needs auth: the token (embedded), or a session.
  app.use('*', async (c, next) => {
    if (c.get('auth')) return next();
    const url = new URL(c.req.url);
    const given = url.searchParams.get('token');
    if (given !== null && !isApi(c) && c.req.method === 'GET') {
      // ?token= once: a cookie session, and the same page without the token in the address bar or history.
      const user = identify?.(given) ?? null;
      if (user === null)
        throw new ApiError(
          401,
          'LF_UNAUTHORIZED',
          o.users
            ? 'wrong token: open the dashboard with your own token (?token=<yours>, from `ledgerflow users token <you>`), or sign in with your name and password'
            : 'wrong token: use the URL `ledgerflow ui` printed at start',
        );
      const s = sessions.open(user);
      setSessionCookie(c, s, o.sessionTtlMs);
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    let auth = authOf(c, sessions, identify);
    // Someone the users file no longer names (users rm) is signed out: their session ends at their next request.
    if (auth?.via === 'cookie' && o.users && !o.users.has(auth.user)) {
      await sessions.close(auth.session.id);
      auth = null;
    }
    if (!auth) {
      // On NATS the page is the sign-in page: it loads, asks GET /api/session, and gets the 401 below.
      if (!isApi(c) && backend.signIn) return next();
      throw new ApiError(
        401,
        'LF_UNAUTHORIZED',
        backend.signIn
          ? `sign in with your ${o.users ? 'name and password from the users file' : 'NATS user'}: POST /api/session { user, password }${o.users ? ' (or send Authorization: Bearer <your token>)' : ''}`
          : 'missing token: open the URL `ledgerflow ui` printed at start, or send Authorization: Bearer <token>',
      );
    }
    checkCsrf(c, auth);
    c.set('auth', auth);
    return next();
  });

  // A run id in the path is checked before any store sees it: a traversal (`..%2F`) or 5 000 characters is a 400, not a file name.
  const runIdParam: MiddlewareHandler<Env> = async (c, next) => {
    checkRunIdParam(c.req.param('id') ?? '');
    return next();
  };
  app.use('/api/runs/:id', runIdParam);
  app.use('/api/runs/:id/*', runIdParam);

  const actor = (c: Context<Env>): Actor => backend.actorOf(c.get('auth'));
  /** `as` (act for someone else) is the shared token's; with --users an action is the signed-in person's own. */
  const asOf = (as: string | undefined): string | undefined => {
    if (as !== undefined && o.users)
      throw new ApiError(
        400,
        'LF_INPUT_INVALID',
        'as: this dashboard has named users (--users): actions are recorded as the signed-in user; leave `as` out',
        { field: 'as' },
      );
    return as;
  };
  /** May this actor read runs (NATS: nats.conf's rule for the person, backend.readRefusal); embedded: always. */
  const readAccess = async (a: Actor) => {
    const refusal = await backend.readRefusal?.(a);
    return refusal
      ? { allowed: false, message: refusal.message, subject: (refusal.meta as { subject?: string }).subject }
      : { allowed: true };
  };
  // Every read (JSON, SSE, /metrics) and action: a person nats.conf would not let read the log gets a 403 before any
  // store is asked, so no answer (a run not found, a workflow's inputs) tells more. The scraper's token opens /metrics only.
  app.use('*', async (c, next) => {
    if (isApi(c) && c.req.path !== '/api/session' && c.get('auth').via === 'cookie') {
      const refusal = await backend.readRefusal?.(actor(c));
      if (refusal) throw refusal;
    }
    return next();
  });
  // A start's or an event's body, read only now: signed in, and allowed to read (start-body.ts).
  app.use('/api/*', inputBodies(o.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, BODY_LIMIT));
  app.get('/api/session', async (c) => {
    const auth = c.get('auth');
    const who = actor(c).authority;
    return c.json({
      user: auth.user,
      mode: backend.mode,
      identity,
      signIn: backend.signIn !== undefined,
      level: who ? levelText(who.level) : null,
      via: auth.via,
      csrf: auth.via === 'cookie' ? auth.session.csrf : null,
      read: await readAccess(actor(c)),
    });
  });
  app.delete('/api/session', async (c) => {
    const auth = c.get('auth');
    if (auth.via === 'cookie') await sessions.close(auth.session.id);
    clearSessionCookie(c);
    return c.json({ signedOut: true });
  });

  runRoutes(app, backend, actor, asOf);
  // An operator's hands (docs/operations.md: bulk actions by filter, a dry run first; schedules; breakers); the editor's (docs/dashboard.md#editing-a-definition).
  operationRoutes(app, backend, actor);
  editorRoutes(app, backend, actor);
  app.post('/api/workflows/:id/start', async (c) => {
    const body = parseBody(StartBody, await jsonBody(c));
    const id =
      body.runId !== undefined
        ? { runId: body.runId, ...(body.idReuse !== undefined ? { idReuse: body.idReuse } : {}) }
        : undefined;
    const opts =
      id || body.priority !== undefined
        ? { ...id, ...(body.priority !== undefined ? { priority: body.priority } : {}) }
        : undefined;
    return c.json(await backend.actions(actor(c)).start(c.req.param('id'), body.input, body.version, opts));
  });
  app.post('/api/events/:type', async (c) => {
    const body = parseBody(EmitBody, await jsonBody(c));
    return c.json(await backend.actions(actor(c)).emit(c.req.param('type'), body.data, body.id));
  });

  definitionRoutes(app, backend);

  app.get('/api/schedules', async (c) => c.json({ schedules: await backend.schedules() }));
  app.get('/api/triggers', async (c) => c.json({ triggers: await backend.triggers() }));
  app.get('/api/workers', async (c) => c.json(await backend.workers()));
  app.get('/api/metrics/summary', async (c) => c.json(await metricsSummary(backend, Date.now())));
  // Behind the same auth as every route: Prometheus sends the token (`authorization` in its scrape config).
  app.get('/metrics', async (c) => {
    if (!o.metrics) throw new ApiError(501, 'LF_NOT_IMPLEMENTED', 'this server was started without metrics');
    c.header('Content-Type', o.metrics.contentType);
    return c.body(await o.metrics.text());
  });

  app.all('/api/*', (c) =>
    c.json({ error: { code: 'LF_NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  // Page routes: the browser app (it routes on the client). An unknown run's page is a 404 with the same app, which says so.
  app.get('/runs/:id', async (c) => {
    const id = c.req.param('id');
    // Not signed in (the sign-in page) or not allowed to read: the same 200 whether the run exists or not.
    const auth = c.get('auth');
    if (!auth || (auth.via === 'cookie' && (await backend.readRefusal?.(actor(c))))) return c.html(indexHtml());
    const known = RUN_ID_PATTERN.test(id) && (await backend.store.lastSeq(id)) > 0;
    return c.html(indexHtml(), known ? 200 : 404);
  });
  app.get('*', (c) => c.html(indexHtml()));

  return app;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}
