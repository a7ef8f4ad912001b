/**
 * Small HTTP pieces of the app: the client's address, a JSON body, an SSE stream held open. Kept apart so app.ts stays
 * the list of routes.
 */
import type { Context } from 'hono';
import { ApiError } from './errors.js';
import { errorMessage } from '../errors/index.js';

/** The TCP peer's address (behind a proxy: the proxy's; a forwarded header is the client's to forge). */
export function clientAddress(c: Context): string {
  return (
    (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ??
    'unknown'
  );
}

/** The JSON body, {} when there is none; a body that is not JSON is a 400. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'LF_INPUT_INVALID', `(body): not JSON: ${errorMessage(err)}`, { field: '(body)' });
  }
}

/** Holds an SSE stream open with a comment every 15 s until the client goes; then `stop`. */
export async function keepAlive(
  stream: {
    onAbort(f: () => void): void;
    sleep(ms: number): Promise<unknown>;
    writeSSE(m: { data: string; event?: string }): Promise<void>;
    aborted: boolean;
    closed: boolean;
  },
  stop: () => void,
): Promise<void> {
  let open = true;
  let stopped = false;
  const end = () => {
    if (!stopped) {
      stopped = true;
      stop();
    }
  };
  stream.onAbort(() => {
    open = false;
    end();
  });
  await stream.writeSSE({ event: 'ready', data: '{}' });
  while (open && !stream.aborted && !stream.closed) {
    await stream.sleep(15_000);
    if (open && !stream.aborted)
      await stream.writeSSE({ event: 'ping', data: '{}' }).catch(() => {
        open = false;
      });
  }
  end();
}
