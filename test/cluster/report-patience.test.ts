/**
 * A station's worker keeps an outcome while its link to the hub is down ("no responders"), however long, and
 * its report patience (WorkerOptions.reportPatienceMs) counts from the link's return: a publish that times out
 * as the leaf reconnects is retried, not given up on (which would report the finished attempt lost and run it
 * a second time). A worker not at a station gives up once its patience is spent.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutcomeReporter } from '../../src/cluster/worker/report-outcome.js';
import type { InputMessage, TaskMessage } from '../../src/cluster/transport/messages.js';
import { NoRespondersError, TimeoutError } from '../../src/store/index.js';
import { rememberDomain } from '../../src/store/jetstream/nats-lib.js';

const task = { runId: 'r1', taskId: 'count', attempt: 1, restart: 0, token: 'tok' } as unknown as TaskMessage;
const outcome = {
  type: 'task.completed',
  runId: 'r1',
  task: 'count',
  attempt: 1,
  output: {},
} as unknown as InputMessage;

/** A JetStream client whose publishes fail as `failures` says, in turn, then succeed. */
function flakyJs(failures: Array<() => Error>): { js: JetStreamClient; calls: () => number } {
  let calls = 0;
  const js = {
    publish: async () => {
      const f = failures[calls++];
      if (f) throw f();
      return { seq: 1, duplicate: false, stream: 'LF_INPUTS' };
    },
  };
  return { js: js as unknown as JetStreamClient, calls: () => calls };
}

describe("a report's patience", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const noResponders = () => new NoRespondersError('lf.reports.w.default.r1');
  const timedOut = () => new TimeoutError();

  it("at a station, counts from the link's return: a timeout as it comes back is retried, and the outcome is published once", async () => {
    const nc = {};
    rememberDomain(nc, 'north');
    // The link down for ten times the patience, then one publish timing out as it comes back.
    const { js, calls } = flakyJs([...Array.from({ length: 12 }, () => noResponders), timedOut]);
    const lines: string[] = [];
    const acked = vi.fn();
    const reporter = new OutcomeReporter(js, {
      sender: 'w',
      queue: 'default',
      log: (l) => lines.push(l),
      stopped: () => false,
      nc: null,
      patienceMs: 2_000,
    });
    // Only the station test of publish() reads nc's domain; null here keeps the direct hand-over off.
    (reporter as unknown as { opts: { nc: object } }).opts.nc = nc;
    const done = (
      reporter as unknown as { publish: (m: JsMsg[], t: TaskMessage, o: InputMessage) => Promise<void> }
    ).publish([{ ack: acked } as unknown as JsMsg], task, outcome);
    let failed: unknown = null;
    done.catch((err: unknown) => {
      failed = err;
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(failed).toBeNull();
    await done;
    expect(calls()).toBe(14);
    expect(acked).toHaveBeenCalledTimes(1);
    expect(lines.some((l) => l.includes("retrying until the station's link to the hub is back"))).toBe(true);
  });

  it('away from a station, is spent from the first try: the outcome is given up on (the attempt is redelivered)', async () => {
    const { js } = flakyJs(Array.from({ length: 50 }, () => timedOut));
    const reporter = new OutcomeReporter(js, {
      sender: 'w',
      queue: 'default',
      log: () => {},
      stopped: () => false,
      nc: null,
      patienceMs: 2_000,
    });
    const done = (
      reporter as unknown as { publish: (m: JsMsg[], t: TaskMessage, o: InputMessage) => Promise<void> }
    ).publish([{ ack: vi.fn() } as unknown as JsMsg], task, outcome);
    const outcomeOf = done.then(
      () => 'published',
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcomeOf).toBeInstanceOf(TimeoutError);
  });
});
