/**
 * An operator's day-2 actions during `npm run chaos` (docs/operations.md), judged with the rest:
 *
 * - bulk retry: a workflow whose runs fail until retried (`chaos-fails`); every 20–40 s
 *   `ledgerflow retry --query 'workflow=chaos-fails status=FAILED' --yes`, and once more after the kills. Each
 *   failed run must end with exactly one retry run (`<id>-retry`) that completed; no run outside the filter may
 *   get one; the retry runs are judged for loss, forks and duplicate executions like every other run.
 * - schedule pause: a schedule firing every 5 s (`chaos-tick`, catch_up none), paused for 8–15 s every 25–45 s
 *   with `ledgerflow schedules pause|resume`. No slot between a pause's answer and the resume may have a run
 *   (engines die and fail over meanwhile: the pause is in the cursor, not in an engine); each slot's run is judged
 *   with the others.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from '../src/events/index.js';
import { cli } from '../test/helpers/cli.js';

const FAILING = `workflow:
  id: chaos-fails
  version: 1
  tasks:
    - id: charge
      type: SIMPLE
      handler: fails_unless_retry
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 200ms }
`;

const TICKING = `workflow:
  id: chaos-tick
  version: 1
  triggers:
    - schedule: "*/5 * * * * *"
      catch_up: none
  tasks:
    - id: first
      type: SIMPLE
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 200ms }
`;

export const FAILING_WORKFLOW = 'chaos-fails';

interface Setting {
  url: string;
  dir: string;
  env: Record<string, string>;
  between: (lo: number, hi: number) => number;
  say: (s: string) => void;
}
export interface OperationsSummary {
  failedRuns: number;
  bulkRetries: number;
  bulkRetryCommandsFailed: number;
  retried: number;
  pauses: number;
  pausesFailed: number;
  scheduleRuns: number;
}
interface PauseWindow {
  answeredAt: number;
  resumeAskedAt: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const slotOf = (runId: string): number | null => {
  const m = /-s\d+-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(runId);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : null;
};

export class ChaosOperator {
  readonly windows: PauseWindow[] = [];
  readonly bulk = { commands: 0, failedCommands: 0, retried: 0 };
  private readonly pauses = { asked: 0, failed: 0 };

  constructor(private readonly s: Setting) {}

  private ledgerflow(args: string[]) {
    return cli(['--nats', this.s.url, ...args], { cwd: this.s.dir, env: this.s.env });
  }

  /** Deploys the two workflows (before the engines start, so the schedule fires from the start). */
  async deploy(): Promise<void> {
    for (const [name, text] of [
      ['chaos-fails.yaml', FAILING],
      ['chaos-tick.yaml', TICKING],
    ] as const) {
      writeFileSync(join(this.s.dir, name), text);
      const r = await this.ledgerflow(['deploy', join(this.s.dir, name)]);
      if (r.code !== 0) throw new Error(`deploy of ${name} failed (${r.code}): ${r.stderr}`);
    }
  }

  /** One bulk retry of the failed runs; the retry runs it started, or null when the command failed (a node down). */
  async retryFailed(): Promise<string[] | null> {
    this.bulk.commands++;
    const r = await this.ledgerflow([
      'retry',
      '--query',
      `workflow=${FAILING_WORKFLOW} status=FAILED`,
      '--yes',
      '--json',
    ]);
    if (r.code !== 0) {
      this.bulk.failedCommands++;
      return null;
    }
    const answer = JSON.parse(r.stdout) as { started: Array<{ runId: string }> };
    this.bulk.retried += answer.started.length;
    return answer.started.map((s) => s.runId);
  }

  /** The operator's hand until `end`: bulk retries and schedule pauses, each on its own pace. */
  async during(end: number): Promise<void> {
    const { between, say } = this.s;
    const retrier = (async () => {
      for (;;) {
        const pause = between(20_000, 40_000);
        if (Date.now() + pause >= end) break;
        await sleep(pause);
        const started = await this.retryFailed();
        say(started ? `bulk retry: ${started.length} run(s) retried` : 'bulk retry failed (a node down?)');
      }
    })();
    const pauser = (async () => {
      for (;;) {
        const pause = between(25_000, 45_000);
        const heldMs = between(8000, 15_000);
        if (Date.now() + pause + heldMs >= end) break;
        await sleep(pause);
        this.pauses.asked++;
        const paused = await this.ledgerflow(['schedules', 'pause', 'chaos-tick', '--reason', 'chaos']);
        const answeredAt = Date.now();
        if (paused.code !== 0) {
          this.pauses.failed++;
          say(`schedule pause failed (${paused.stderr.trim().slice(0, 120)})`);
          continue;
        }
        say(`schedule chaos-tick paused; resumed in ${heldMs} ms`);
        await sleep(heldMs);
        const resumeAskedAt = Date.now();
        // A resume must not be lost to a node going down: tried until it takes.
        for (let i = 0; i < 20 && (await this.ledgerflow(['schedules', 'resume', 'chaos-tick'])).code !== 0; i++)
          await sleep(1000);
        this.windows.push({ answeredAt, resumeAskedAt });
      }
    })();
    await Promise.all([retrier, pauser]);
  }

  /**
   * After the kills: once every failing run has failed, retry until nothing is left to retry, then name every run
   * the operator's actions made (retry runs, schedule slots) so the settle and the verdict include them.
   */
  async finish(failing: () => Promise<boolean>, deadline: number): Promise<string[]> {
    while (Date.now() < deadline && !(await failing())) await sleep(1000);
    for (let i = 0; i < 10; i++) {
      const started = await this.retryFailed();
      if (started !== null && started.length === 0) break;
      await sleep(1000);
    }
    const listed = async (args: string[]) => {
      const r = await this.ledgerflow(['list', ...args, '--limit', '500', '--json']);
      if (r.code !== 0) throw new Error(`list ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return (JSON.parse(r.stdout) as Array<{ runId: string }>).map((x) => x.runId);
    };
    return [...(await listed(['--trigger', 'retry'])), ...(await listed(['--workflow', 'chaos-tick']))];
  }

  /** What went wrong with the operator's actions, from the runs' final logs. */
  judge(finals: Map<string, EventEnvelope[] | Error>): { problems: string[]; summary: OperationsSummary } {
    const problems: string[] = [];
    const workflowOf = (events: EventEnvelope[]) => events[0]?.workflowId;
    let failedOriginals = 0;
    let slots = 0;
    for (const [id, events] of finals) {
      if (!Array.isArray(events) || events.length === 0) continue;
      const workflow = workflowOf(events);
      if (id.endsWith('-retry')) {
        const original = finals.get(id.slice(0, -'-retry'.length));
        if (Array.isArray(original) && workflowOf(original) !== FAILING_WORKFLOW)
          problems.push(`${id}: a retry of a run outside the filter (workflow ${workflowOf(original)})`);
        if (events.at(-1)?.state.status !== 'COMPLETED')
          problems.push(`${id}: a retry run ended ${events.at(-1)?.state.status}`);
        continue;
      }
      if (workflow === FAILING_WORKFLOW && events.at(-1)?.state.status === 'FAILED') {
        failedOriginals++;
        if (!finals.has(`${id}-retry`)) problems.push(`${id}: FAILED, and no bulk retry started its retry run`);
      }
      if (workflow === 'chaos-tick') {
        slots++;
        const slot = slotOf(id);
        const window =
          slot === null ? undefined : this.windows.find((w) => slot > w.answeredAt && slot < w.resumeAskedAt);
        if (window)
          problems.push(
            `${id}: slot ${new Date(slot!).toISOString()} fired while paused (paused ${new Date(window.answeredAt).toISOString()} to ${new Date(window.resumeAskedAt).toISOString()})`,
          );
      }
    }
    return {
      problems,
      summary: {
        failedRuns: failedOriginals,
        bulkRetries: this.bulk.commands,
        bulkRetryCommandsFailed: this.bulk.failedCommands,
        retried: this.bulk.retried,
        pauses: this.windows.length,
        pausesFailed: this.pauses.failed,
        scheduleRuns: slots,
      },
    };
  }
}
