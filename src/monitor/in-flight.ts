/**
 * What a process driving runs says while it waits for attempts (`run`, `resume` and `retry` on stderr; a library user's
 * driver wherever it likes): a run waits for its handlers however long they take (a task without a `timeout` has none),
 * so a handler that never settles would otherwise look like a hung command. Every so often (LEDGERFLOW_WAIT_NOTICE,
 * default 30s) one line per attempt still running: its task, attempt, how long it has run, and its timeout (if any).
 */
import { instanceKey, itemsWithStatus } from '../compiler/index.js';
import { parseDuration } from '../definition/index.js';
import { UsageError } from '../errors/index.js';
import type { RunSnapshot } from '../runtime/index.js';

const DEFAULT_WAIT_NOTICE_MS = 30_000;

interface Attempt {
  runId: string;
  instance: string;
  task: string;
  attempt: number;
  since: number;
  timeoutAt: number | null;
}

/** The attempts in flight in the runs this process drives, as their commits tell, and the notice that names them. */
export class InFlightNotices {
  private readonly attempts = new Map<string, Attempt>();
  readonly everyMs: number;

  constructor(
    private readonly say: (line: string) => void,
    env: string | undefined = process.env.LEDGERFLOW_WAIT_NOTICE,
  ) {
    const ms = env === undefined || env === '' ? DEFAULT_WAIT_NOTICE_MS : parseDuration(env);
    if (ms === null || ms <= 0)
      throw new UsageError(`LEDGERFLOW_WAIT_NOTICE=${env} is not a duration; use e.g. 30s or 2m`, { value: env });
    this.everyMs = ms;
  }

  /** After each commit of a run driven here (child runs too): which of its attempts run now, since when. */
  observe(after: RunSnapshot, time: string): void {
    const ctx = after.context;
    const now = Date.parse(time);
    const running = new Set<string>();
    if (after.status === 'active') {
      for (const [task, t] of Object.entries(ctx.tasks)) {
        const iteration = t.iteration !== undefined ? { iteration: t.iteration } : {};
        const instances: { status: string; attempt: number; instance: string }[] = [];
        if (t.items) {
          for (const item of itemsWithStatus(t.items, 'IN_PROGRESS')) {
            const it = t.items[item]!;
            instances.push({
              status: it.status,
              attempt: it.attempts,
              instance: instanceKey({ task, ...iteration, item }),
            });
          }
        } else instances.push({ status: t.status, attempt: t.attempts, instance: instanceKey({ task, ...iteration }) });
        for (const i of instances) {
          if (i.status !== 'IN_PROGRESS') continue;
          const key = `${ctx.runId}/${i.instance}/${i.attempt}`;
          running.add(key);
          // The attempt's own timeout timer, by its id (an item's or iteration's, not any of its task's).
          const timer = ctx.timers[`${i.instance}/timeout/${i.attempt}`];
          const had = this.attempts.get(key);
          this.attempts.set(key, {
            runId: ctx.runId,
            instance: i.instance,
            task,
            attempt: i.attempt,
            since: had?.since ?? now,
            timeoutAt: timer ? Date.parse(timer.dueAt) : null,
          });
        }
      }
    }
    for (const key of this.attempts.keys())
      if (key.startsWith(`${ctx.runId}/`) && !running.has(key)) this.attempts.delete(key);
  }

  /** The notice's lines now: one per attempt that has run for a while. */
  lines(now: number): string[] {
    return [...this.attempts.values()]
      .filter((a) => now - a.since >= this.everyMs * 0.9)
      .map(
        (a) =>
          `… still waiting for ${a.instance} of run ${a.runId} (attempt ${a.attempt}, running ${seconds(now - a.since)}; ${
            a.timeoutAt === null
              ? `its task has no timeout: it runs until its handler returns; Ctrl-C stops here, \`ledgerflow resume ${a.runId}\` runs it again`
              : `times out in ${seconds(Math.max(0, a.timeoutAt - now))}`
          })`,
      );
  }

  /** Says the notice every `everyMs` until the returned function is called. Unref'd: the driver keeps the process alive, not this. */
  start(): () => void {
    const t = setInterval(() => {
      for (const line of this.lines(Date.now())) this.say(line);
    }, this.everyMs);
    t.unref();
    return () => clearInterval(t);
  }
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
