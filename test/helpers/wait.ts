/**
 * How tests wait: on a condition, never for a fixed time. `waitFor` polls a
 * probe (sync or async) until it returns something truthy and hands that
 * back; it fails naming what it waited for. A probe that throws fails the
 * wait at once (a process that died will not start later). It is vitest's
 * `vi.waitUntil` underneath, whose timers are the real ones even when a test
 * fakes them. To assert a value that arrives eventually, `expect.poll` reads
 * better; where time itself is the subject, a virtual clock (see engine.ts)
 * moves it instead of waiting for it.
 */
import { vi } from 'vitest';

export interface WaitOptions {
  /** How long to wait in all (ms); generous, because a loaded machine is when tests flake. */
  timeout?: number;
  /** Pause between probes (ms). */
  interval?: number;
  /** More to say when it times out (a process's output, what was seen instead). */
  detail?: () => string;
}

type Truthy<T> = Exclude<T, false | '' | 0 | null | undefined>;

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Truthy<T>> {
  const { timeout = 10_000, interval = 20, detail } = opts;
  let probeFailed = false;
  const guarded = (): T | Promise<T> => {
    try {
      const v = probe();
      return v instanceof Promise ? v.catch((err: unknown) => { probeFailed = true; throw err; }) : v;
    } catch (err) {
      probeFailed = true;
      throw err;
    }
  };
  try {
    return (await vi.waitUntil(guarded, { timeout, interval })) as Truthy<T>;
  } catch (err) {
    if (probeFailed) throw err;
    const more = detail?.();
    throw new Error(`timed out after ${timeout} ms waiting for ${what}${more ? `\n${more}` : ''}`);
  }
}

/** Resolves when `signal` is aborted (at once if it already is): a handler that runs until the engine takes it back. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
