// The DBOS Transact side of `npm run bench -- peers` (a process of its own; protocol.mjs says how the bench
// drives it): a workflow of five DBOS.runStep steps s1..s5, each returning { step } as ledgerflow's five-step
// workflow's handlers do, on the PostgreSQL system database at argv[2] (DBOS creates the database and its
// tables at launch). Each step's output is recorded in PostgreSQL before the next runs (DBOS's durability).
import { DBOS } from '@dbos-inc/dbos-sdk';
import { serveDriver } from './protocol.mjs';

const [systemDatabaseUrl] = process.argv.slice(2);
DBOS.setConfig({ name: 'ledgerflow-bench', systemDatabaseUrl, logLevel: 'warn' });
const STEPS = ['s1', 's2', 's3', 's4', 's5'];
const five = DBOS.registerWorkflow(
  async () => {
    for (const s of STEPS) await DBOS.runStep(async () => ({ step: s }), { name: s });
    return 'done';
  },
  { name: 'five' },
);
await DBOS.launch();
await serveDriver({
  one: async (tag) => {
    const handle = await DBOS.startWorkflow(five, { workflowID: tag })();
    if ((await handle.getResult()) !== 'done') throw new Error(`workflow ${tag} did not finish`);
  },
  close: () => DBOS.shutdown(),
});
