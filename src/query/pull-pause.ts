/**
 * The run index projection's pause between two pulls (jetstream-projection.ts): a wait that `stop()` ends at once and
 * `hurry()` cuts to the short pause, for a commit this process stored that the next pull should take soon.
 */
export class PullPause {
  private current: { stop(): void; hurry(): void } | null = null;

  constructor(private readonly shortMs: number) {}

  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.current = null;
        resolve();
      };
      let timer = setTimeout(done, ms);
      let end = performance.now() + ms;
      this.current = {
        stop: () => {
          clearTimeout(timer);
          done();
        },
        hurry: () => {
          const now = performance.now();
          if (end - now <= this.shortMs) return;
          end = now + this.shortMs;
          clearTimeout(timer);
          timer = setTimeout(done, this.shortMs);
        },
      };
    });
  }

  stop(): void {
    this.current?.stop();
  }

  hurry(): void {
    this.current?.hurry();
  }
}
