/**
 * A 1,000-item MAP with max_concurrency 50 on the embedded file store,
 * next to the same number of independent one-task runs, 50 at a time (the
 * baseline: the same handler calls, each item a run of its own), and the
 * time to replay the MAP's run. Run alone with `node --import tsx bench/map.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { foldEvents, replayRun, type Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore, type EventStore } from '../src/store/index.js';
import { discard } from './kit.js';

const now = () => performance.now();

function def(text: string) {
  const { definition, diagnostics } = parseDefinition(text, 'bench.yaml');
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

export interface MapBench {
  items: number;
  concurrency: number;
  mapMs: number;
  itemsPerSec: number;
  runsMs: number;
  runsPerSec: number;
  events: number;
  replayMs: number;
  foldMs: number;
}

/** `store`: where the two measurements run (a fresh store each); the embedded file store by default. */
export async function benchMap(opts: {
  say: (line: string) => void;
  fmt: (n: number, d?: number) => string;
  items?: number;
  concurrency?: number;
  store?: (name: 'map' | 'runs') => EventStore;
  where?: string;
}): Promise<MapBench> {
  const { say, fmt } = opts;
  const items = opts.items ?? 1000;
  const concurrency = opts.concurrency ?? 50;
  const map = def(`
workflow:
  id: bench-map
  name: A MAP over ${items} items
  version: 1
  input:
    required: [xs]
  tasks:
    - id: each
      type: MAP
      items: "\${workflow.input.xs}"
      handler: work
      input: { x: "\${item}", i: "\${index}" }
      max_concurrency: ${concurrency}
`);
  const one = def(`
workflow:
  id: bench-one
  name: One task
  version: 1
  input:
    required: [x]
  tasks:
    - { id: work, type: SIMPLE, input: { x: "\${workflow.input.x}" } }
`);
  const handlers: Handlers = { work: async (input) => ({ x: input.x }) };
  const xs = Array.from({ length: items }, (_, i) => `item-${i}`);
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-map-'));
  try {
    const storeOf = opts.store ?? ((name: 'map' | 'runs') => new FileEventStore(join(dir, name)));
    const mapStore = storeOf('map');
    const t0 = now();
    const view = await new Engine({ store: mapStore }).run(map, { xs }, { handlers, follow: false });
    const mapMs = now() - t0;
    if (view.status !== 'COMPLETED') throw new Error(`MAP run ${view.status}`);
    const events = await mapStore.read(view.runId);

    const runsStore = storeOf('runs');
    const engine = new Engine({ store: runsStore });
    let next = 0;
    const t1 = now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < items) {
          const x = xs[next++]!;
          const v = await engine.run(one, { x }, { handlers, follow: false });
          if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
        }
      }),
    );
    const runsMs = now() - t1;

    const t2 = now();
    const report = replayRun(await mapStore.read(view.runId));
    const replayMs = now() - t2;
    if (report.divergence) throw new Error(`MAP replay diverged: ${JSON.stringify(report.divergence)}`);
    const t3 = now();
    foldEvents(events);
    const foldMs = now() - t3;
    await Promise.all([mapStore.close(), runsStore.close()]);

    const r = {
      items,
      concurrency,
      mapMs,
      itemsPerSec: (items / mapMs) * 1000,
      runsMs,
      runsPerSec: (items / runsMs) * 1000,
      events: events.length,
      replayMs,
      foldMs,
    };
    say(
      `\na MAP over ${fmt(items)} items, max_concurrency ${concurrency}, ${opts.where ?? 'on the embedded file store'}:`,
    );
    say(
      `  baseline: ${fmt(items)} independent one-task runs, ${concurrency} at a time   ${fmt(r.runsPerSec, 1)} items/s`,
    );
    say(
      `  one run, one MAP (${fmt(events.length)} events)                        ${fmt(r.itemsPerSec, 1)} items/s  = ${fmt(r.itemsPerSec / r.runsPerSec, 2)}× baseline`,
    );
    say(`  replay of the MAP's run: read + checked replay ${fmt(replayMs, 1)} ms, fold only ${fmt(foldMs, 1)} ms`);
    return r;
  } finally {
    discard(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const items = Number(process.env.ITEMS ?? 1000);
  await benchMap({ say: console.log, fmt, items });
}
