/**
 * Who is asking. Embedded: the token printed at start, as `Authorization: Bearer`, or once as `?token=` which opens a
 * cookie session (HttpOnly, SameSite=Strict) and redirects without it. NATS: a sign-in with a NATS user and password
 * opens a cookie session holding that user's connection. Cookie sessions need `X-LF-CSRF` on every non-GET request;
 * bearer requests carry no ambient credential and need none. Sessions live in memory only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { ApiError } from './errors.js';

export const SESSION_COOKIE = 'lf_session';
export const CSRF_HEADER = 'X-LF-CSRF';

export interface Session {
  id: string;
  csrf: string;
  user: string;
  expiresAt: number;
  /** NATS: the user's own connection (closed with the session). */
  client?: { close(): Promise<void> };
}

export type Auth =
  | { via: 'bearer'; user: string; session?: undefined }
  | { via: 'cookie'; user: string; session: Session };

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  constructor(private readonly ttlMs: number) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  open(user: string, client?: Session['client']): Session {
    const s: Session = {
      id: randomToken(),
      csrf: randomToken(),
      user,
      expiresAt: Date.now() + this.ttlMs,
      ...(client ? { client } : {}),
    };
    this.byId.set(s.id, s);
    return s;
  }

  /** The live session of this id; it is extended by use (sliding expiry). */
  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.byId.get(id);
    if (!s) return null;
    if (s.expiresAt < Date.now()) {
      void this.close(id);
      return null;
    }
    s.expiresAt = Date.now() + this.ttlMs;
    return s;
  }

  async close(id: string): Promise<void> {
    const s = this.byId.get(id);
    this.byId.delete(id);
    await s?.client?.close().catch(() => undefined);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (s.expiresAt < now) void this.close(id);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.byId.keys()].map((id) => this.close(id)));
  }
}

export function setSessionCookie(c: Context, s: Session, ttlMs: number): void {
  setCookie(c, SESSION_COOKIE, s.id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    maxAge: Math.floor(ttlMs / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/**
 * Who a token names: on the embedded store the one shared token (its holder acts as `embeddedUser`, or as any name
 * given in `as`), or with `--users` each person's own token; null on NATS (sign-in sessions only).
 */
export type Identify = ((token: string) => string | null) | null;

export function identifyBy(
  token: string | null,
  embeddedUser: string,
  users?: { userOf(token: string): string | null } | null,
): Identify {
  if (users) return (given) => users.userOf(given);
  return token === null ? null : (given) => (sameSecret(given, token) ? embeddedUser : null);
}

/**
 * The request's credentials, or null. A wrong bearer token is an error, not "anonymous": it never falls back to a
 * cookie.
 */
export function authOf(c: Context, sessions: Sessions, identify: Identify): Auth | null {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const user = m && identify ? identify(m[1]!) : null;
    if (user === null)
      throw new ApiError(
        401,
        'LF_UNAUTHORIZED',
        identify === null
          ? 'this server signs people in with their NATS user (POST /api/session); bearer tokens are for the embedded store'
          : 'wrong token: use the token `ledgerflow ui` printed at start (with --users: your own token)',
      );
    return { via: 'bearer', user };
  }
  const s = sessions.get(getCookie(c, SESSION_COOKIE));
  return s ? { via: 'cookie', user: s.user, session: s } : null;
}

/** A cookie-authenticated request that changes something must carry the session's CSRF token. */
export function checkCsrf(c: Context, auth: Auth): void {
  if (auth.via !== 'cookie' || ['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return;
  const given = c.req.header(CSRF_HEADER);
  if (!given || !sameSecret(given, auth.session.csrf)) {
    throw new ApiError(
      403,
      'LF_CSRF',
      `missing or wrong ${CSRF_HEADER} header: send the csrf token GET /api/session returns`,
    );
  }
}
