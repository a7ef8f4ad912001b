/**
 * Profiling aid for the file store alone (no raw or memory rounds):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof-filesync --max-semi-space-size=64 --import tsx bench/file-prof.ts [runs] [rounds]
 * Prints workflows/s, CPU ms per run and batch statistics per round. SEALED=1: the store encrypted at rest (a data key
 * of its own), as bench/crypt.ts's encrypted side.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, encryptedStore } from '../src/encryption/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { cpuNow, def, FIVE_YAML, fiveHandlers, now, pool } from './kit.js';

const runs = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'lf-file-prof-'));
const five = def(FIVE_YAML);
const handlers = fiveHandlers();
try {
  const file = new FileEventStore(
    join(dir, 'engine'),
    process.env.IN_FLIGHT ? { batchesInFlight: Number(process.env.IN_FLIGHT) } : {},
  );
  const key = randomBytes(32).toString('base64');
  const store = process.env.SEALED
    ? encryptedStore(file, new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined)))
    : file;
  const engine = new Engine({ store });
  for (let r = 0; r < rounds; r++) {
    const t = now();
    const cpu = cpuNow();
    await pool(runs, 16, async () => {
      const v = await engine.run(five, {}, { handlers });
      if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
    });
    const ms = now() - t;
    if (process.env.GC_STATS) {
      console.log(JSON.stringify((globalThis as any).__gc));
      (globalThis as any).__gc = undefined;
    }

    console.log(
      `round ${r + 1}: ${(runs / (ms / 1000)).toFixed(0)} wf/s, ${((cpuNow() - cpu) / runs).toFixed(2)} ms CPU/run`,
    );
  }
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
