/**
 * How tests wait: on a condition, never for a fixed time. `waitFor` polls a
 * probe (sync or async) until it returns something truthy and hands that
 * back; it fails naming what it waited for. A probe that throws fails the
 * wait at once (a process that died will not start later); one that hangs
 * is cut off at the timeout. It is the one polling loop of the tests and of
 * what they share with scripts (globalSetup's nats-server, scripts/chaos.ts,
 * the golden-history recorder): it needs no test runner, and its timers are
 * the real ones even when a test fakes them (taken before any test can).
 * To assert a value that arrives eventually, `expect.poll` reads better;
 * where time itself is the subject, a virtual clock (see engine.ts) moves it
 * instead of waiting for it.
 */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

export interface WaitOptions {
  /** How long to wait in all (ms); generous, because a loaded machine is when tests flake. */
  timeout?: number;
  /** Pause between probes (ms). */
  interval?: number;
  /** More to say when it times out (a process's output, what was seen instead). */
  detail?: () => string;
}

type Truthy<T> = Exclude<T, false | '' | 0 | null | undefined>;

const TIMED_OUT = Symbol('timed out');

export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<Truthy<T>> {
  const { timeout = 10_000, interval = 20, detail } = opts;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof TIMED_OUT>((r) => {
    deadline = realSetTimeout(() => r(TIMED_OUT), timeout);
  });
  const pause = () => new Promise<void>((r) => realSetTimeout(r, interval));
  try {
    for (;;) {
      const v = await Promise.race([Promise.resolve().then(probe), expired]);
      if (v === TIMED_OUT) break;
      if (v) return v as Truthy<T>;
      if ((await Promise.race([pause(), expired])) === TIMED_OUT) break;
    }
  } finally {
    realClearTimeout(deadline);
  }
  const more = detail?.();
  throw new Error(`timed out after ${timeout} ms waiting for ${what}${more ? `\n${more}` : ''}`);
}

/** Resolves when `signal` is aborted (at once if it already is): a handler that runs until the engine takes it back. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** What a test opens once something has happened, so that an order is forced by the event, not by time: `await g.opened` holds until `g.open()`. */
export interface Gate {
  opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open };
}
