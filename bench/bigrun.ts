/**
 * The long run the replay, fold and JetStream sections read: four tasks in a
 * row, each failing `failures` times before it succeeds (a task may have at
 * most 1,000 attempts, so the retries are spread over four): each failed
 * attempt adds task.started, task.failed and timer.fired, so the default 832
 * make a history of 9,997 events. Produced live on the memory store, with
 * the commits as the driver appended them.
 */
import type { EventEnvelope } from '../src/events/index.js';
import { Engine } from '../src/local/index.js';
import { MemoryEventStore, type AppendRequest } from '../src/store/index.js';
import { def, now } from './kit.js';

export interface BigRun {
  events: EventEnvelope[];
  commits: EventEnvelope[][];
  liveMs: number;
  status: string;
}

export async function makeBigRun(failures = 832): Promise<BigRun> {
  const retrying = def(`
workflow:
  id: ten-thousand
  name: Tasks retried until the history holds 10,000 events
  version: 1
  tasks:
    - id: prepare
      type: SIMPLE
${[1, 2, 3, 4]
  .map(
    (n) => `    - id: flaky${n}
      type: SIMPLE
      handler: flaky
      depends_on: [${n === 1 ? 'prepare' : `flaky${n - 1}`}]
      retry_policy: { max_attempts: 1000, backoff: fixed, initial_delay: 0ms }
`,
  )
  .join('')}    - id: finish
      type: SIMPLE
      depends_on: [flaky4]
`);
  const store = new MemoryEventStore();
  const commits: EventEnvelope[][] = [];
  const recording = Object.assign(Object.create(store), {
    append: (r: AppendRequest) => {
      commits.push(r.events);
      return store.append(r);
    },
  });
  const engine = new Engine({ store: recording });
  const t0 = now();
  const view = await engine.run(
    retrying,
    {},
    {
      handlers: {
        prepare: async () => ({ ok: true }),
        flaky: async (_i, ctx) => {
          if (ctx.attempt <= failures) throw new Error(`attempt ${ctx.attempt}`);
          return { attempt: ctx.attempt };
        },
        finish: async () => ({ done: true }),
      },
    },
  );
  const liveMs = now() - t0;
  return { events: await store.read(view.runId), commits, liveMs, status: view.status };
}
