// Preloaded into the CLI commands the tests start when LEDGERFLOW_TEST_SPAWNS names a file (test/helpers/cli.ts):
// at exit, appends the process's CPU seconds, its wall seconds and its label (test file and command line).
'use strict';
const { appendFileSync } = require('node:fs');
const out = process.env.LEDGERFLOW_TEST_SPAWNS;
const label = (process.env.LEDGERFLOW_CENSUS_LABEL || '?').replace(/\n/g, ' ');
if (out) {
  process.on('exit', () => {
    const u = process.cpuUsage();
    try { appendFileSync(out, `${((u.user + u.system) / 1e6).toFixed(3)} ${process.uptime().toFixed(2)} ${label}\n`); } catch { /* the census is best effort */ }
  });
}
