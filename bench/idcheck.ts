/**
 * Idempotent starts (docs/runs.md#caller-chosen-run-ids): what the
 * id check costs a start. Starts of a one-task workflow recorded (not
 * driven), 8 in flight: `Engine.startRun` with a fresh caller-chosen id and
 * `idReuse: reject_duplicate` (the library's `runId`, what `run --id` and
 * `start --id` call: the id's chain looked up, then an exclusive begin) next
 * to `Engine.start` without an id, rounds interleaved. Figure: time per start
 * with the id check ÷ without (`admission.idcheck_ratio`, the file store;
 * `admission.idcheck_ratio_jetstream` on a nats-server when one is found).
 * Run alone with `npm run -s bench -- idcheck --json`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore, JetStreamEventStore, type EventStore } from '../src/store/index.js';
import { fmt, interleave, list, median, pool, type Bench, discard } from './kit.js';
import { startBenchNats } from './nats.js';

const IN_FLIGHT = 8;

function def() {
  const { definition, diagnostics } = parseDefinition(
    `
workflow:
  id: bench-idcheck
  version: 1
  tasks:
    - { id: work, type: SIMPLE }
`,
    'bench.yaml',
  );
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

/** Milliseconds per start, with and without the id check, `rounds` of `starts` each, interleaved on one store. */
async function measure(
  store: EventStore,
  starts: number,
  rounds: number,
  tag: string,
): Promise<{ plainMs: number[]; idMs: number[] }> {
  const d = def();
  const engine = new Engine({ store });
  // One warm-up of each, not counted: the store's first appends open files / streams.
  await engine.start(d, {});
  await engine.startRun(d, {}, { runId: `${tag}-warm`, idReuse: 'reject_duplicate' });
  const perStart = async (job: (i: number) => Promise<unknown>) => {
    const t0 = performance.now();
    await pool(starts, IN_FLIGHT, async (i) => {
      await job(i);
    });
    return (performance.now() - t0) / starts;
  };
  const { a, b } = await interleave(
    rounds,
    () => perStart(() => engine.start(d, {})),
    (r) => perStart((i) => engine.startRun(d, {}, { runId: `${tag}-r${r}-${i}`, idReuse: 'reject_duplicate' })),
  );
  return { plainMs: a, idMs: b };
}

export async function benchIdCheck(b: Bench): Promise<void> {
  const starts = b.runs ?? (b.quick ? 50 : 500);
  const rounds = b.rounds ?? (b.quick ? 1 : 3);
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-idc-'));
  const fileStore = new FileEventStore(dir);
  try {
    const file = await measure(fileStore, starts, rounds, 'f');
    const ratio = median(file.idMs) / median(file.plainMs);
    b.figures['admission.idcheck_ratio'] = ratio;
    b.details.idcheck = { starts, rounds, inFlight: IN_FLIGHT, file };
    b.say(
      `idcheck (file store): ${fmt(median(file.idMs), 2)} ms per start with runId + reject_duplicate vs ${fmt(median(file.plainMs), 2)} ms without (×${ratio.toFixed(2)}); rounds ${list(file.idMs, 2)} vs ${list(file.plainMs, 2)}`,
    );
  } finally {
    await fileStore.close();
    discard(dir);
  }
  let nats: Awaited<ReturnType<typeof startBenchNats>> | null = null;
  try {
    nats = await startBenchNats();
  } catch (err) {
    b.figures['admission.idcheck_ratio_jetstream'] = null;
    b.figures['idcheck.skipped'] = `jetstream: ${(err as Error).message}`;
    b.say(`idcheck (JetStream): skipped: ${(err as Error).message}`);
    return;
  }
  const store = new JetStreamEventStore({
    servers: nats.url,
    stream: 'LF_BENCH_IDC',
    subjectPrefix: 'bench.idc',
    name: 'ledgerflow-bench',
  });
  try {
    const js = await measure(store, starts, rounds, 'j');
    const ratio = median(js.idMs) / median(js.plainMs);
    b.figures['admission.idcheck_ratio_jetstream'] = ratio;
    (b.details.idcheck as Record<string, unknown>).jetstream = js;
    b.say(
      `idcheck (JetStream): ${fmt(median(js.idMs), 2)} ms per start with runId + reject_duplicate vs ${fmt(median(js.plainMs), 2)} ms without (×${ratio.toFixed(2)}); rounds ${list(js.idMs, 2)} vs ${list(js.plainMs, 2)}`,
    );
  } finally {
    await store.close().catch(() => undefined);
    await nats.dispose();
  }
}
