/**
 * Migrating in-flight runs (docs/runs.md#migrating-in-flight-runs): 1,000
 * runs of a workflow waiting for a person (a WAIT fired, then a HUMAN task),
 * recorded on the embedded file store, judged against version 2 (a task
 * added after the approval) by replaying each run's history under it
 * (`--dry-run`), then migrated (one run.migrated appended per run), through
 * the library call the CLI and the HTTP API make (executor/migrate.ts,
 * eight runs at once). Figures: `evo.migrate_rate` (runs migrated per
 * second), `evo.migrate_dry_rate` (runs judged per second, nothing written).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workflowOf } from '../src/compiler/index.js';
import { migrateRuns } from '../src/executor/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { def, fmt, now, pool, progress, type Bench, discard } from './kit.js';

const V1 = `
workflow:
  id: bench-migrate
  version: 1
  tasks:
    - { id: check, type: SET, values: { checked: true } }
    - { id: review, type: HUMAN, depends_on: [check] }
`;
const V2 = `${V1.replace('version: 1', 'version: 2')}    - { id: record, type: SET, values: { refunded: true }, depends_on: [review] }\n`;

export async function benchMigrate(b: Bench): Promise<void> {
  const runs = b.runs ?? (b.quick ? 100 : 1_000);
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-migrate-'));
  const store = new FileEventStore(dir);
  try {
    const v1 = def(V1);
    const engine = new Engine({ store });
    const ids: string[] = [];
    await pool(runs, 8, async (i) => {
      const runId = `m${String(i).padStart(6, '0')}`;
      await engine.start(v1, {}, { runId });
      ids.push(runId);
      if (i % 100 === 0) progress(`migrate: ${i}/${runs} runs waiting`);
    });
    const target = workflowOf(def(V2));
    const stamp = () => new Date().toISOString();
    let t = now();
    const judged = await migrateRuns(store, ids, target, {}, { dryRun: true, now: stamp });
    const drySecs = (now() - t) / 1000;
    if (judged.some((r) => r.verdict !== 'as_is'))
      throw new Error(`every run should take over as is: ${JSON.stringify(judged.find((r) => r.verdict !== 'as_is'))}`);
    t = now();
    const migrated = await migrateRuns(store, ids, target, {}, { dryRun: false, by: 'bench', now: stamp });
    const realSecs = (now() - t) / 1000;
    if (migrated.some((r) => r.migrated !== true)) throw new Error('every run should be migrated');
    b.figures['evo.migrate_rate'] = runs / realSecs;
    b.figures['evo.migrate_dry_rate'] = runs / drySecs;
    b.details.migrate = { runs, drySecs, realSecs };
    b.say(
      `migrate: ${runs} waiting runs judged against v2 in ${fmt(drySecs, 2)} s (${fmt(runs / drySecs)} runs/s, dry run), migrated in ${fmt(realSecs, 2)} s (${fmt(runs / realSecs)} runs/s)`,
    );
  } finally {
    await store.close();
    discard(dir);
  }
}
