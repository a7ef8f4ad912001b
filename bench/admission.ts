/**
 * Concurrency limits: 1,000 starts of a one-task workflow with
 * `concurrency: { limit: 10 }` on the embedded file store, all at once, each
 * `Engine.run` driving its run (the queued ones admitted and driven as slots
 * free), next to the baseline: the same workflow without the limit, 10 runs
 * in flight. The handler takes HANDLER_MS, so work really queues behind the
 * limit. Figure: drain time with the limit ÷ the baseline's
 * (`admission.drain_ratio`); checked from the histories: never more than 10
 * runs RUNNING at once (`admission.max_running`; `max_going` is its older
 * name). Run alone with `npm run -s bench -- admission --json`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore, type EventStore } from '../src/store/index.js';
import type { Handlers } from '../src/runtime/index.js';
import type { Bench } from './kit.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { discard } from './kit.js';

const HANDLER_MS = Number(process.env.ADMISSION_HANDLER_MS ?? 3);

function def(limit: string) {
  const { definition, diagnostics } = parseDefinition(
    `
workflow:
  id: bench-admission
  version: 1
${limit}  tasks:
    - { id: work, type: SIMPLE }
`,
    'bench.yaml',
  );
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

/** The most runs going at once, from the histories: from run.started (or run.admitted after run.queued) to the settling event. */
async function maxGoing(store: EventStore): Promise<{ most: number; queued: number }> {
  const edges: [number, number][] = [];
  let queuedRuns = 0;
  for await (const { events } of store.readAll()) {
    const queued = events.some((e) => e.type === 'run.queued');
    if (queued) queuedRuns++;
    const from = events.find((e) => (queued ? e.type === 'run.admitted' : e.type === 'run.started'));
    const to = events.at(-1)!;
    if (!from) continue;
    edges.push([Date.parse(from.time), 1], [Date.parse(to.time), -1]);
  }
  // At one millisecond a settle comes before the admission it let in.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let going = 0;
  let most = 0;
  for (const [, d] of edges) {
    going += d;
    most = Math.max(most, going);
  }
  return { most, queued: queuedRuns };
}

export async function benchAdmission(b: Bench): Promise<void> {
  const runs = b.runs ?? (b.quick ? 100 : 1000);
  const limit = 10;
  // A few ms per task, as a handler that calls something would take: without it a run settles before the next start is decided.
  const handlers: Handlers = {
    work: async () => {
      await sleep(HANDLER_MS);
      return { ok: true };
    },
  };
  const dirs: string[] = [];
  const stores: FileEventStore[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'lf-bench-adm-'));
    dirs.push(d);
    const s = new FileEventStore(d);
    stores.push(s);
    return s;
  };
  try {
    // Baseline: no limit, 10 in flight (a pool of 10 loops).
    const plain = def('');
    const base = new Engine({ store: fresh() });
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: limit }, async () => {
        while (next < runs) {
          next++;
          await base.run(plain, {}, { handlers });
        }
      }),
    );
    const baseMs = performance.now() - t0;

    // With the limit: every start at once; the limit alone keeps 10 going.
    const limited = def(`  concurrency: { limit: ${limit} }\n`);
    const store = fresh();
    const engine = new Engine({ store });
    const t1 = performance.now();
    await Promise.all(Array.from({ length: runs }, () => engine.run(limited, {}, { handlers })));
    // Every run settled (the drives of admitted runs finish before the run() that admitted them returns).
    const unsettled = (await store.listRuns({ workflowId: 'bench-admission' })).filter(
      (r) => r.status !== 'COMPLETED',
    ).length;
    const limitedMs = performance.now() - t1;
    // From the histories: the most RUNNING at once, and how many runs waited QUEUED (run.queued) at their start.
    const { most, queued: queuedAtStart } = await maxGoing(store);
    b.figures['admission.drain_ratio'] = limitedMs / baseMs;
    b.figures['admission.max_running'] = most;
    b.figures['admission.max_going'] = most;
    b.details.admission = {
      runs,
      limit,
      handlerMs: HANDLER_MS,
      baseMs,
      limitedMs,
      queuedAtStart,
      unsettled,
      maxRunning: most,
    };
    b.say(
      `admission: ${runs} starts with concurrency.limit ${limit} (handler ${HANDLER_MS} ms): drained in ${Math.round(limitedMs)} ms vs ${Math.round(baseMs)} ms without the limit at ${limit} in flight (×${(limitedMs / baseMs).toFixed(2)}); at most ${most} RUNNING at once (from the histories); ${queuedAtStart} QUEUED at their start; ${unsettled} not COMPLETED`,
    );
  } finally {
    for (const s of stores) await s.close();
    for (const d of dirs) discard(d);
  }
}
