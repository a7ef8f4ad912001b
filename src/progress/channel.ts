/**
 * Where live progress goes and is read from, per store: small files under the embedded store's directory
 * (file-channel.ts), a KV bucket on NATS (cluster/transport/progress-bucket.ts). Ephemeral: nothing here is an event of
 * a run, a value lost is made up by the next, and readers judge a value by the run's log (only an attempt still in
 * flight shows one).
 */
import { z } from 'zod';
import { ProgressSchema } from '../events/index.js';
import type { LiveProgress } from './value.js';

export interface ProgressChannel {
  /** The attempt's latest value (replacing its previous one). */
  put(p: LiveProgress): Promise<void>;
  /** The attempt ended: its live value goes (its last is on its outcome). */
  remove(p: Pick<LiveProgress, 'runId' | 'instance' | 'attempt'>): Promise<void>;
  /** The live values of the run's attempts, as written (a reader filters those of attempts no longer in flight). */
  read(runId: string): Promise<LiveProgress[]>;
  /**
   * Pushes the run's live values (as `read` gives them) to `onChange`: once soon after the call, then each time they
   * change, until the function returned is called. One watch per reader, whatever it reads at: a KV watch on NATS, an
   * fs.watch of the run's folder (with a slow readdir/stat poll as fallback) on the embedded store. Callers coalesce.
   */
  watch(runId: string, onChange: ProgressListener): () => void;
  /**
   * Optional (the embedded store's files; NATS entries age out): the run settled or was archived, so what its attempts
   * left goes; a file written at or after `before` (ms since the epoch; default now) stays (an attempt started since).
   */
  sweep?(runId: string, before?: number): Promise<void>;
}

/** Told the run's live values, as read, each time they change. */
export type ProgressListener = (values: LiveProgress[]) => void;

/** A live value read back (a torn or foreign file or entry fails it and is skipped). */
export const LiveProgressSchema = ProgressSchema.extend({
  runId: z.string().min(1),
  task: z.string().min(1),
  instance: z.string().min(1),
  attempt: z.number().int().positive(),
  startedAt: z.string().min(1),
});

export function isLiveProgress(v: unknown): v is LiveProgress {
  return LiveProgressSchema.safeParse(v).success;
}

/** An instance as one safe name token (file name, KV key token): base64url of its text. */
export function instanceToken(instance: string): string {
  return Buffer.from(instance, 'utf8').toString('base64url');
}
