/**
 * A CPU profile of `ledgerflow engine --handlers` while runs are driven through it as the peers section does
 * (bench/handlers-rig.ts): `node --import tsx --import ./bench/built.mjs bench/prof-handlers.ts <dir> [engines] [runs]`
 * writes each engine's .cpuprofile into <dir> (summarize one with bench/prof-top.ts).
 */
import { def, FIVE_YAML } from './kit.js';
import { handlersRig } from './handlers-rig.js';
import { startBenchNats } from './nats.js';

const [dir = '/tmp/prof', engines = '1', runs = '2000'] = process.argv.slice(2);
const server = await startBenchNats();
// Only the engines are profiled: the variable is set for the children this process spawns from here on.
process.env.LF_BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${dir}`;
const rig = await handlersRig(server, def(FIVE_YAML), Number(engines));
delete process.env.LF_BENCH_NODE_FLAGS;
await rig.round(200, 64);
const r = await rig.round(Number(runs), 64);
console.log(
  `${Math.round(r.workflowsPerSec)} workflows/s, CPU ${((r.cpuUsPerRun ?? 0) / 1000).toFixed(2)} ms/run (engines), server ${((r.serverCpuUsPerRun ?? 0) / 1000).toFixed(2)} ms/run`,
);
await rig.close();
await server.dispose();
