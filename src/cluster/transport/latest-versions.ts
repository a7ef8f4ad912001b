/**
 * Each deployed workflow's latest version (`wf.<id>.latest` in LF_DEFINITIONS), kept by a watch of the bucket in a
 * process that starts many runs (`serve`, the bridge, triggers, a library caller, engines), so that a start reads
 * nothing before it appends: a start is then two round trips (run.started, the kick), not three. A process learns of
 * a deploy made elsewhere when the watch delivers it, within moments; a start racing a deploy gets either version, as
 * two clients racing always did. Until the watch has delivered what the bucket held, and after it ended (a lost
 * connection), a start reads the key instead (DefinitionRegistry.resolve).
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';

export class LatestVersions {
  private readonly versions = new Map<string, { version: string; revision: number }>();
  private watch: QueuedIterator<KvEntry> | null = null;
  private current = false;
  private starting = false;
  private stopped = false;

  constructor(
    private readonly kv: () => Promise<KV>,
    private readonly warn: (err: unknown) => void,
  ) {}

  /** The latest version of `id` as watched; undefined when the watch is not current (read the key instead). */
  get(id: string): string | undefined {
    return this.current ? this.versions.get(id)?.version : undefined;
  }

  /** A workflow's latest version at a revision of the bucket (the watch's, or a deploy this process made): the newer kept. */
  learn(id: string, version: string, revision: number): void {
    const known = this.versions.get(id);
    if (!known || known.revision < revision) this.versions.set(id, { version, revision });
  }

  /** Starts watching, once (again after a watch that ended); the first values arrive in the background. */
  start(): void {
    if (this.watch || this.starting || this.stopped) return;
    this.starting = true;
    void (async () => {
      try {
        const w = await (await this.kv()).watch({ key: 'wf.*.latest' });
        this.watch = w;
        for await (const e of w) {
          const id = e.key.split('.')[1]!;
          if (e.operation === 'PUT') this.learn(id, new TextDecoder().decode(e.value), e.revision);
          else this.versions.delete(id);
          // delta: what the watch's consumer still has to deliver; 0 once it has caught up with the bucket.
          if (e.delta === 0) this.current = true;
        }
      } catch (err) {
        this.warn(err);
      } finally {
        this.current = false;
        this.versions.clear();
        this.watch = null;
        this.starting = false;
      }
    })();
  }

  /** Ends the watch for good (the process closes its connection): starts read the key again. */
  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }
}
