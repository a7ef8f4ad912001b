/**
 * ledgerflow as a user gets it: `npm pack` the repository, install the tarball
 * (its dependencies from the registry) into a scratch CommonJS project and a
 * scratch ESM project, type-check and run TypeScript that imports the public
 * API, and use the `ledgerflow` bin through npx.
 *
 * Packs the dist/ that `npm test` has just built (--ignore-scripts): running
 * `prepare` here would rebuild dist/ under the CLI tests running beside this one.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { loadCatalog } from '../../src/templates/index.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// The scratch projects are not this repository: none of its npm run-script or ledgerflow settings leak in.
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(npm_(?!config_)|npm_config_local_prefix$|LEDGERFLOW_|INIT_CWD$)/i.test(k),
  ),
);
env.NO_COLOR = '1';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      res({ code, stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}\n${err.message}` : stderr });
    });
  });
}

async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// `--no`: npx must use the installed bin, never install one; `--`: flags after it are ledgerflow's, not npx's.
const npx = (cwd: string, ...args: string[]) => run('npx', ['--no', '--', 'ledgerflow', ...args], cwd);
// The bin as npm links it (node_modules/.bin/ledgerflow -> ../ledgerflow/bin/ledgerflow.js, started by sh), without npx's own start-up.
const bin = (cwd: string, ...args: string[]) => run(join(cwd, 'node_modules', '.bin', 'ledgerflow'), args, cwd);

// A task whose handler refuses its input: with NonRetryableError it fails at its first attempt despite its retry policy.
const REFUSE_YAML = `workflow:
  id: refuse
  name: A handler that refuses its input
  version: 1
  handlers: ./handlers.ts
  tasks:
    - id: check
      type: SIMPLE
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 10s }
`;

// The same program for both projects; only how it is wrapped (top-level await or not) differs.
const PROGRAM = `
const handlers: Handlers = { async check() { throw new NonRetryableError('bad input', 'BAD_INPUT'); } };
const { definition } = parseDefinition(${JSON.stringify(REFUSE_YAML.replace('  handlers: ./handlers.ts\n', ''))}, 'refuse.yaml');
if (!definition) throw new Error('the definition did not parse');
const engine = createEngine({ store: new MemoryEventStore() });
const view = await engine.run(definition, {}, { handlers });
let notFound: unknown;
try { await engine.events('no-such-run'); } catch (err) { notFound = err; }
console.log(JSON.stringify({
  status: view.status,
  attempts: view.tasks.check?.attempts,
  error: view.tasks.check?.error,
  ownInstanceof: new NonRetryableError('x') instanceof NonRetryableError,
  libraryErrorInstanceof: notFound instanceof RunNotFoundError && notFound instanceof LedgerflowError,
}));
`;
const IMPORTS = `import { createEngine, LedgerflowError, MemoryEventStore, NonRetryableError, parseDefinition, RunNotFoundError, type Handlers } from 'ledgerflow';\n`;

const HANDLERS_TS = `import { NonRetryableError, type Handlers } from 'ledgerflow';
export default {
  async check() { throw new NonRetryableError('bad input', 'BAD_INPUT'); },
} satisfies Handlers;
`;

interface Project {
  dir: string;
  app: string;
  tsconfigs: Record<string, object>;
  nodeArgs: string[];
}

// The NATS client's types (@nats-io/nats-core 3.x, which ledgerflow's declarations name) use Symbol.asyncDispose:
// a project that checks its libraries' types (no skipLibCheck) needs esnext.disposable beside its target's libs.
const LIB = ['es2022', 'dom', 'esnext.disposable'];

const PROJECTS: Record<'commonjs' | 'esm', Omit<Project, 'dir'> & { type: 'commonjs' | 'module' }> = {
  commonjs: {
    type: 'commonjs',
    app: `${IMPORTS}async function main(): Promise<void> {${PROGRAM}}\nmain().catch((err) => { console.error(err); process.exitCode = 1; });\n`,
    tsconfigs: {
      'tsconfig.json': {
        compilerOptions: { module: 'node16', target: 'es2022', lib: LIB, strict: true, outDir: 'out', types: [] },
        files: ['app.ts', 'handlers.ts'],
      },
      'tsconfig.commonjs.json': {
        compilerOptions: { module: 'commonjs', target: 'es2022', lib: LIB, strict: true, noEmit: true, types: [] },
        files: ['app.ts', 'handlers.ts'],
      },
    },
    // Node 20.19+ could require() the ESM build; turn that off where it exists, so only the CommonJS build can pass.
    nodeArgs: process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
      ? ['--no-experimental-require-module']
      : [],
  },
  esm: {
    type: 'module',
    app: `${IMPORTS}${PROGRAM}`,
    tsconfigs: {
      'tsconfig.json': {
        compilerOptions: { module: 'nodenext', target: 'es2022', lib: LIB, strict: true, outDir: 'out', types: [] },
        files: ['app.ts', 'handlers.ts'],
      },
    },
    nodeArgs: [],
  },
};

// The program uses `process` and `console` without @types/node (which a scratch project does not install).
const AMBIENT = 'declare const process: { exitCode?: number };\n';

const dirs: Partial<Record<keyof typeof PROJECTS, string>> = {};
let scratch = '';
let templatesProject = '';

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'dist', 'cjs', 'index.js'))) {
    throw new Error('dist/ is not built: run `npm run build` first (`npm test` does)');
  }
  scratch = mkdtempSync(join(tmpdir(), 'lf-pack-'));
  const packed = JSON.parse(
    await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT),
  ) as { filename: string }[];
  const tarball = join(scratch, packed[0]!.filename);
  // `npm install <tarball>` once (about 6 CPU-s); the other project gets a copy of what it installed, which is
  // the same tree npm would write there (the tarball and the lockfile are the same; only `type` differs).
  let installed: { dir: string; dependencies: Record<string, string> } | null = null;
  for (const [name, p] of Object.entries(PROJECTS)) {
    const dir = join(scratch, name);
    mkdirSync(dir);
    const pkg = { name: `scratch-${name}`, version: '1.0.0', private: true, type: p.type };
    writeFileSync(join(dir, 'app.ts'), `${AMBIENT}${p.app}`);
    writeFileSync(join(dir, 'handlers.ts'), HANDLERS_TS);
    writeFileSync(join(dir, 'refuse.yaml'), REFUSE_YAML);
    for (const [file, config] of Object.entries(p.tsconfigs))
      writeFileSync(join(dir, file), JSON.stringify(config, null, 2));
    if (!installed) {
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
      await ok('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], dir);
      installed = {
        dir,
        dependencies: (
          JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
        ).dependencies,
      };
    } else {
      writeFileSync(
        join(dir, 'package.json'),
        `${JSON.stringify({ ...pkg, dependencies: installed.dependencies }, null, 2)}\n`,
      );
      cpSync(join(installed.dir, 'node_modules'), join(dir, 'node_modules'), {
        recursive: true,
        verbatimSymlinks: true,
      });
      cpSync(join(installed.dir, 'package-lock.json'), join(dir, 'package-lock.json'));
    }
    dirs[name as keyof typeof PROJECTS] = dir;
  }
  // The templates' project as `npm init -y` writes it, installed shallow: only ledgerflow at the top of its
  // node_modules, its own dependencies beneath it (as pnpm, `npm link` or `npm i <folder>` leave a project). So a
  // template's handler importing a package the project never installed fails here as it does for such a user,
  // rather than resolving by the accident of npm's hoisting.
  templatesProject = join(scratch, 'templates');
  mkdirSync(templatesProject);
  writeFileSync(
    join(templatesProject, 'package.json'),
    `${JSON.stringify({ name: 'my-project', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  await ok(
    'npm',
    ['install', tarball, '--install-strategy=shallow', '--prefer-offline', '--no-audit', '--no-fund'],
    templatesProject,
  );
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// Concurrent: most of each test is waiting on child processes.
describe.concurrent.each(Object.keys(PROJECTS) as (keyof typeof PROJECTS)[])(
  'installed from its tarball into a %s project',
  (name) => {
    const project = PROJECTS[name];

    it('type-checks and runs TypeScript that imports the public API; instanceof holds for its error classes', async () => {
      const dir = dirs[name]!;
      for (const file of Object.keys(project.tsconfigs)) await ok(process.execPath, [TSC, '-p', file], dir);
      const out = JSON.parse(await ok(process.execPath, [...project.nodeArgs, join('out', 'app.js')], dir)) as Record<
        string,
        unknown
      >;
      expect(out).toEqual({
        status: 'FAILED',
        attempts: 1,
        error: { message: 'bad input', code: 'BAD_INPUT', retryable: false },
        ownInstanceof: true,
        libraryErrorInstanceof: true,
      });
    }, 120_000);

    it('runs the ledgerflow bin (npx, and its npm link): --version, -V, and validate on a definition shipped in the package', async () => {
      const dir = dirs[name]!;
      for (const r of [await npx(dir, '--version'), await bin(dir, '-V')]) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(VERSION);
      }
      const v = await npx(dir, 'validate', 'node_modules/ledgerflow/definitions/lead_qualification.yaml');
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toContain('lead_qualification');
    }, 120_000);

    it('runs a workflow whose TypeScript handler imports NonRetryableError from ledgerflow: the task fails at once', async () => {
      const dir = dirs[name]!;
      const r = await bin(dir, '--store', 'store', 'run', 'refuse.yaml', '--json');
      expect(r.code, r.stderr).toBe(1);
      const view = JSON.parse(r.stdout) as {
        status: string;
        tasks: Record<string, { attempts: number; error: unknown }>;
      };
      expect(view.status).toBe('FAILED');
      expect(view.tasks.check).toMatchObject({
        attempts: 1,
        error: { message: 'bad input', code: 'BAD_INPUT', retryable: false },
      });
    }, 120_000);
  },
);

describe('the bundled workflows, installed', () => {
  it('run with their own handlers from node_modules/ledgerflow (which import ledgerflow itself)', async () => {
    const dir = dirs.esm!;
    const r = await bin(
      dir,
      '--store',
      'store',
      'run',
      'node_modules/ledgerflow/definitions/lead_qualification.yaml',
      '--json',
      '--lead_id',
      'L-1',
      '--company',
      'Acme',
      '--employees',
      '850',
      '--industry',
      'logistics',
      '--source',
      'referral',
      '--budget',
      '120000',
      '--engagement',
      '{"website_visits":14,"demo_requested":true}',
      '--received_at',
      '2026-01-01T00:00:00Z',
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('COMPLETED');
  }, 120_000);
});

/**
 * docs/library.md: every bundled template, copied with `npx ledgerflow new <template>` into an empty folder of a
 * project that installed the package, runs with the command `new` prints, typed into a shell in that folder.
 * Nothing but ledgerflow is installed there: a handler importing another package (`yaml`) fails to load (exit 2).
 */
describe('every bundled template, copied into an installed project with `new`', () => {
  const templates = loadCatalog().templates.map((t) => t.id);
  const pwsh = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'pwsh')));

  it.concurrent.each(templates)(
    '%s runs as `new` printed it',
    async (id) => {
      expect(existsSync(join(templatesProject, 'node_modules', 'yaml'))).toBe(false);
      const folder = join(templatesProject, id);
      mkdirSync(folder, { recursive: true });
      // `new` by the linked bin (npx's own start-up spared); what it prints is what npx would have made it print there.
      const made = await run(join(templatesProject, 'node_modules', '.bin', 'ledgerflow'), ['new', id], folder);
      expect(made.code, made.stderr).toBe(0);
      const printed = /run it from .*:\n {2}(.+)\n?$/.exec(made.stdout)?.[1];
      expect(printed, made.stdout).toMatch(/^npx ledgerflow /);
      const r = await run('sh', ['-c', printed!], folder);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
      if (id === 'inventory-validation-ps1' && !pwsh) {
        // Its steps run `pwsh -File`: without PowerShell the first one fails, naming the program, and the run with it.
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout + r.stderr).toMatch(/pwsh/);
        return;
      }
      // 0: completed; 3: waiting for a person or a signal, as the template's table in docs/library.md says.
      expect([0, 3], `${printed}\n${r.stdout}\n${r.stderr}`).toContain(r.code);
    },
    120_000,
  );
});
