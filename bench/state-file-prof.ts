/**
 * What the state file and the execution log cost the embedded engine, one process each way, for a CPU profile:
 *   ON=0 node --cpu-prof --cpu-prof-dir=/tmp/off --import tsx bench/state-file-prof.ts
 *   ON=1 node --cpu-prof --cpu-prof-dir=/tmp/on --import tsx bench/state-file-prof.ts
 * then bench/prof-top.ts on each (inclusive: take logEvent buildProjection). npm run bench -- statefile gives the ratio.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionLogAppender } from '../src/execution-log/index.js';
import { Engine } from '../src/local/index.js';
import { StateFileWriter } from '../src/state-file/index.js';
import { FileEventStore, observedStore } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, pool } from './kit.js';
const dir = mkdtempSync(join(tmpdir(), 'lf-prof-sf-'));
const logged = def(`${FIVE_YAML}  monitoring:\n    report_frequency: per_task\n    log_to: exec.log\n`);
const store = new FileEventStore(join(dir, 'store'));
const writer = new StateFileWriter(store, { path: join(dir, '.3ox', 'workflow.state.yaml'), keep: 50, warn: () => {} });
const log = new ExecutionLogAppender(store, { cwd: dir, warn: () => {} });
const on = process.env.ON === '1';
const engine = new Engine({ store: on ? observedStore(store, [writer, log]) : store });
const t = performance.now();
await pool(Number(process.env.N ?? 6000), 16, async () => {
  await engine.run(logged, {}, { handlers: fiveHandlers() });
});
console.log(on ? 'on' : 'off', Math.round(Number(process.env.N ?? 6000) / ((performance.now() - t) / 1000)), 'wf/s');
await writer.flushNow();
await log.close();
process.exit(0);
