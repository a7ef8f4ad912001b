/**
 * The bodies of a start (`POST /api/workflows/:id/start`) and of an event (`POST /api/events/:type`): their input is a
 * run's, which may be of any size (docs/language.md#large-payloads: its largest fields are kept apart, in the store's
 * blobs or, on NATS, uploaded in chunks by the person's own start). So these two take bodies up to `maxBytes` (`ledgerflow
 * ui --max-input`, 64 MiB by default) where every other route takes BODY_LIMIT. The middleware is mounted after the
 * sign-in check, so nobody's body is read before they are known; and at most LARGE_AT_ONCE bodies over BODY_LIMIT are
 * read and started at once, each holding its text and its parsed value (about three times its size) until the start
 * has kept its large fields apart: a hundred people posting 64 MiB wait their turn rather than hold 20 GB together.
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './errors.js';
import { inTurns } from '../turns.js';

/** The routes' default limit on a body: 64 MiB. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Bodies over the ordinary limit read and started at once (more would not start sooner: parsing is CPU-bound). */
const LARGE_AT_ONCE = 2;

/** Whether this request is one of the two whose body is a run's input. */
export function isInputRoute(c: Context): boolean {
  return c.req.method === 'POST' && /^\/api\/(workflows\/[^/]+\/start|events\/[^/]+)$/.test(c.req.path);
}

const size = (n: number): string =>
  n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;

/** The middleware of the input routes: a body of at most `maxBytes`, and the large ones in turn. */
export function inputBodies(maxBytes: number, ordinaryLimit: number): MiddlewareHandler {
  const inTurn = inTurns(LARGE_AT_ONCE);
  const limited = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(
        413,
        'LF_BODY_TOO_LARGE',
        `request body over ${maxBytes} bytes: a start's or an event's body is at most ${size(maxBytes)} on this dashboard (ledgerflow ui --max-input <bytes> sets it); nothing was started`,
      );
    },
  });
  return async (c: Context, next: Next) => {
    if (!isInputRoute(c)) return next();
    const length = Number(c.req.header('content-length') ?? Number.NaN);
    // A body of known small size needs no turn; one of unknown size (chunked) may be large.
    if (Number.isFinite(length) && length <= ordinaryLimit) return limited(c, next);
    return inTurn(async () => limited(c, next));
  };
}
