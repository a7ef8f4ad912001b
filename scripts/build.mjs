// `npm run build` (and `prepare`, so `npm install` / `npm pack` in a clone): the ESM build and its declarations
// (tsc), schema/ledgerflow.schema.json (build-schema.mjs), the CommonJS bundle (build-cjs.mjs), the dashboard (build-web.mjs)
// and the bundled ES module entries dist/index.js and dist/exports/ over tsc's (build-esm.mjs), the command's
// CommonJS bundle dist/cli/ledgerflow.cjs (build-cli.mjs), the bundled
// workflows' handlers as JavaScript (build-handlers.mjs), written into a folder
// beside dist/ and swapped in whole once every step succeeded. Deleting dist/ first, as the build used to, broke a
// `serve`, `ui` or test run going on in the same clone (a module imported on demand was gone); now dist/ is
// missing only between two renames, and a failed build leaves the last good one in place.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const next = join(root, `dist.next-${process.pid}`);
const old = join(root, `dist.old-${process.pid}`);

/** Leftovers of builds that died before their swap (their process is gone). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
for (const name of readdirSync(root)) {
  const m = /^dist\.(next|old)-(\d+)$/.exec(name);
  if (m && (m[1] === 'old' || !alive(Number(m[2])))) rmSync(join(root, name), { recursive: true, force: true });
}

function step(what, command, args, env = {}) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    console.error(`build: ${what} failed${r.error ? ` (${r.error.message})` : ''}; dist/ is left as it was`);
    process.exit(r.status ?? 1);
  }
}

step('tsc', 'tsc', ['-p', 'tsconfig.build.json', '--outDir', next]);
step('the JSON Schema', process.execPath, [join(root, 'scripts', 'build-schema.mjs')], { LEDGERFLOW_DIST: next });
step('the CommonJS bundle', process.execPath, [join(root, 'scripts', 'build-cjs.mjs')], { LEDGERFLOW_DIST: next });
step('the dashboard', process.execPath, [join(root, 'scripts', 'build-web.mjs')], { LEDGERFLOW_DIST: next });
step('the bundled ES module entries', process.execPath, [join(root, 'scripts', 'build-esm.mjs')], {
  LEDGERFLOW_DIST: next,
});
step('the command', process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { LEDGERFLOW_DIST: next });
step('the bundled handlers', process.execPath, [join(root, 'scripts', 'build-handlers.mjs')], {
  LEDGERFLOW_DIST: next,
});

if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
