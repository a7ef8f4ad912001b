/**
 * Failed NATS sign-ins, counted per client address and per user name. After `max` failures within `windowMs` of the
 * first:
 * - the address is locked: every sign-in from it is refused (429 with Retry-After) until the window ends, without
 *   asking NATS, so a locked-out guess learns nothing (one client trying many names, or one name);
 * - the user is slowed, not locked: sign-ins for that name from other addresses are checked at most once per
 *   `windowMs / max` (12 s at 5/1m), the others refused with a Retry-After of the rest. Many clients (or an IPv6 block)
 *   trying one name get `max` guesses a window, and the person with the right password gets in within seconds however
 *   long others go on guessing (a lock by name would let anyone lock them out for good). A success forgets both counts.
 *
 * Memory is bounded: at most `maxKeys` counts are held. Entries sit in the Map in the order their windows began, so the
 * expired ones are at the front and go first; past the bound the oldest go, whatever their state.
 */
import { parseDuration } from '../definition/index.js';
import { UsageError } from '../errors/index.js';
import { ApiError } from './errors.js';
import { trimOldest } from '../bounded.js';

export interface SignInLimit {
  max: number;
  windowMs: number;
  maxKeys?: number;
}

export const DEFAULT_SIGNIN_LIMIT: SignInLimit = { max: 5, windowMs: 60_000, maxKeys: 10_000 };

export class SignInLimiter {
  private readonly counts = new Map<string, { failures: number; since: number; checkedAt?: number }>();
  private readonly maxKeys: number;
  constructor(
    private readonly limit: SignInLimit = DEFAULT_SIGNIN_LIMIT,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = limit.maxKeys ?? DEFAULT_SIGNIN_LIMIT.maxKeys!;
  }

  /**
   * Milliseconds until this address may try this user again; 0: now, and then a slowed user's one check of this span is
   * taken by this sign-in.
   */
  admit(address: string, user: string): number {
    this.trim();
    const [byAddress, byUser] = keys(address, user);
    const a = this.live(byAddress);
    if (a && a.failures >= this.limit.max) return a.since + this.limit.windowMs - this.now();
    const u = this.live(byUser);
    if (!u || u.failures < this.limit.max) return 0;
    const every = Math.ceil(this.limit.windowMs / this.limit.max);
    const next = (u.checkedAt ?? -Infinity) + every;
    if (next > this.now()) return next - this.now();
    u.checkedAt = this.now();
    return 0;
  }

  failed(address: string, user: string): void {
    for (const key of keys(address, user)) {
      const c = this.live(key);
      if (c) c.failures++;
      else {
        this.counts.delete(key); // an expired count: its new window goes to the back
        this.counts.set(key, { failures: 1, since: this.now() });
      }
    }
    this.trim();
    trimOldest(this.counts, this.maxKeys);
  }

  succeeded(address: string, user: string): void {
    for (const key of keys(address, user)) this.counts.delete(key);
  }

  /** How many counts are held (tests: the bound). */
  get size(): number {
    return this.counts.size;
  }

  private live(key: string) {
    const c = this.counts.get(key);
    return c && this.now() - c.since < this.limit.windowMs ? c : undefined;
  }

  private trim(): void {
    for (const [key, c] of this.counts) {
      if (this.now() - c.since < this.limit.windowMs) break;
      this.counts.delete(key);
    }
  }
}

/**
 * A sign-in through the limiter: refused with 429 (`retryAfter` told the seconds) while locked, without calling
 * `signIn`; a 401 from it counts, a success resets. Other errors (NATS down: 503) are not the person's failure.
 */
export async function limitedSignIn<T>(
  limiter: SignInLimiter,
  address: string,
  user: string,
  signIn: () => Promise<T>,
  retryAfter: (seconds: number) => void,
): Promise<T> {
  const wait = limiter.admit(address, user);
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    retryAfter(seconds);
    throw new ApiError(
      429,
      'LF_TOO_MANY_SIGN_INS',
      `too many failed sign-ins from this address, or for user ${user}: try again in ${seconds} s`,
    );
  }
  try {
    const signedIn = await signIn();
    limiter.succeeded(address, user);
    return signedIn;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) limiter.failed(address, user);
    throw err;
  }
}

function keys(address: string, user: string): [string, string] {
  return [`address ${address}`, `user ${user}`];
}

/** `LEDGERFLOW_UI_SIGNIN_LIMIT`: `<failures>/<window>`, e.g. `5/1m` (the default) or `10/30s`. */
export function parseSignInLimit(text: string | undefined): SignInLimit {
  if (text === undefined || text.trim() === '') return DEFAULT_SIGNIN_LIMIT;
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  const max = m ? Number(m[1]) : NaN;
  const windowMs = m ? parseDuration(m[2]!) : null;
  if (!Number.isInteger(max) || max < 1 || windowMs === null || windowMs < 1) {
    throw new UsageError(
      `LEDGERFLOW_UI_SIGNIN_LIMIT=${text}: give <failures>/<window>, e.g. 5/1m (5 failed sign-ins a minute per address and per user, the default)`,
      { variable: 'LEDGERFLOW_UI_SIGNIN_LIMIT' },
    );
  }
  return { max, windowMs, maxKeys: DEFAULT_SIGNIN_LIMIT.maxKeys! };
}
