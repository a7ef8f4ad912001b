/**
 * One attempt's progress, coalesced: a handler may report a thousand times a second, the channel is written at most
 * once per interval (the first report at once, then the latest of each interval), and the last value is always
 * delivered. Its last value goes on the attempt's outcome (executor/run-handler.ts); the live one is removed when the
 * attempt ends. Writes are serialized, so a removal never races a late write.
 */
import type { ProgressChannel } from './channel.js';
import { validFraction, validMessage, type LiveProgress, type Progress } from './value.js';

/** At most one write per this many ms per attempt. */
export const PROGRESS_INTERVAL_MS = 250;

export interface ProgressAttempt {
  runId: string;
  task: string;
  instance: string;
  attempt: number;
}

export class ProgressReporter {
  /** The last report as given (fraction checked, message not yet made a line: that is done once per write, not per call). */
  private last: { fraction: number; message: unknown; at: number } | null = null;
  private written: LiveProgress | null = null;
  private writtenFrom: ProgressReporter['last'] = null;
  private lastWriteAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  private readonly startedAt: string;

  constructor(
    private readonly attempt: ProgressAttempt,
    private readonly channel: ProgressChannel | undefined,
    private readonly mask: (text: string) => string = (t) => t,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    startedAt = Date.now(),
  ) {
    this.startedAt = new Date(startedAt).toISOString();
  }

  /** `ctx.progress(fraction, message)`: validated (see value.ts), kept, written when the interval allows. Cheap: a handler may call it in a tight loop. */
  report(fraction: unknown, message?: unknown): void {
    if (this.ended) return;
    const f = validFraction(fraction);
    if (f === null) return;
    const now = Date.now();
    this.last = { fraction: f, message, at: now };
    if (!this.channel || this.timer) return;
    const wait = this.lastWriteAt + this.intervalMs - now;
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** The last value reported, as the outcome keeps it; null: none. */
  lastValue(): Progress | null {
    const v = this.value();
    if (!v) return null;
    const { fraction, message, at } = v;
    return { fraction, ...(message !== undefined ? { message } : {}), at };
  }

  /** The attempt ended: nothing more is written, and its live value is removed once the writes in flight are done. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const channel = this.channel;
    if (!channel || !this.written) return this.chain;
    const gone = this.attempt;
    this.chain = this.chain.then(() => channel.remove(gone).catch(() => undefined));
    return this.chain;
  }

  /** The last report as a value: its message made one masked line, its time ISO. */
  private value(): LiveProgress | null {
    const l = this.last;
    if (!l) return null;
    if (this.writtenFrom === l && this.written) return this.written;
    const text = validMessage(l.message);
    return {
      ...this.attempt,
      startedAt: this.startedAt,
      fraction: l.fraction,
      ...(text !== undefined ? { message: this.mask(text) } : {}),
      at: new Date(l.at).toISOString(),
    };
  }

  private flush(): void {
    this.timer = undefined;
    const channel = this.channel;
    if (this.ended || !this.last || !channel || this.last === this.writtenFrom) return;
    const value = this.value()!;
    this.lastWriteAt = Date.now();
    this.writtenFrom = this.last;
    this.written = value;
    // Best effort: progress is ephemeral, a failed write is made up by the next (and never fails the attempt).
    this.chain = this.chain.then(() => channel.put(value).catch(() => undefined));
  }
}
