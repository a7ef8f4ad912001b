/**
 * The public surface, checked against the built package as a user imports it
 * (`ledgerflow` by self-reference, through package.json "exports"):
 * - every error class under src/ is exported, by the ES module and the
 *   CommonJS builds alike, unless it is listed below as one no library caller
 *   can receive (with why): a caller must be able to `instanceof` what the
 *   library throws at it;
 * - every name README.md and docs/*.md import from 'ledgerflow' exists, values
 *   in both builds and every name (types too) in the declarations TypeScript
 *   reads for `import` and for `require`.
 * Needs dist/ (`npm run build`; `npm test` builds first).
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * Error classes no library caller can receive, by `path:Name`. Each reason must stay true: a class that starts
 * escaping the library belongs in src/index.ts, not here.
 */
const INTERNAL: Record<string, string> = {
  'src/notify/deliver.ts:TryFailed':
    'module-private: one delivery try failing, caught by the retry loop in the same module',
  'src/store/jetstream/publisher.ts:ReplyLostError':
    'caught by JetStreamLink.call(), which sends the publish again (a StoreError when it gives up)',
  'src/monitor/track.ts:EventGapError':
    "src/monitor is the CLI's `watch`, not the library; live.ts catches it and reads the store",
  'src/server/errors.ts:ApiError':
    "the `ui` HTTP server's (not exported from the library); toHttpError turns it into a response",
  'src/server/web/api.ts:ApiError': "the dashboard's browser bundle, not the Node package",
  'src/cluster/engine/requests.ts:Refused':
    "module-private: a person's request refused, caught in the same module and answered as a verdict (and a dead letter)",
  'src/state-file/thread.ts:WriterThreadGone':
    'caught by the state-file writer (writer.ts), which then writes in its own thread',
  'src/transform/wasm-thread.ts:ThreadTimeLimit':
    'caught by runTransform (transform/index.ts), which fails the attempt with TransformError (LF_JQ_ERROR or LF_JS_TIMEOUT)',
  'src/cluster/engine/inbox.ts:StalledAfterRecording':
    "an engine's: thrown by its input route and caught by the inbox, which puts the message back (the sender hears a verdict)",
  'src/import/conductor/script.ts:NotPlain':
    "the Conductor importer's: a script it cannot translate, caught in flow.ts and reported as the task's refusal",
};

interface ErrorClass {
  name: string;
  file: string;
  key: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every `class X extends …Error` under src/ (exported or not: a class a module keeps to itself can still be thrown out of it). */
function errorClasses(): ErrorClass[] {
  const found: ErrorClass[] = [];
  for (const path of sources(join(ROOT, 'src'))) {
    const file = relative(ROOT, path).split('\\').join('/');
    for (const m of readFileSync(path, 'utf8').matchAll(
      /^\s*(?:export\s+)?(?:abstract\s+)?class\s+(\w+)\s+extends\s+([\w.]*Error)\b/gm,
    )) {
      found.push({ name: m[1]!, file, key: `${file}:${m[1]!}` });
    }
  }
  return found;
}

/** The package's entries (package.json "exports"): `ledgerflow` and its tiers. */
const ENTRIES = ['ledgerflow', 'ledgerflow/cluster', 'ledgerflow/query', 'ledgerflow/internal'] as const;
type Entry = (typeof ENTRIES)[number];

interface DocImport {
  name: string;
  typeOnly: boolean;
  where: string;
  from: Entry;
}

/** Names the docs import from 'ledgerflow': `import { … }`, `import type { … }`, a default import, `const { … } = require(…)`. */
function docImports(): DocImport[] {
  const docs = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const out: DocImport[] = [];
  for (const doc of docs) {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const where = (index: number) => `${doc}:${text.slice(0, index).split('\n').length}`;
    const add = (list: string, typeOnly: boolean, at: string, rename: RegExp, from: Entry) => {
      for (const raw of list.split(',')) {
        const item = raw.replace(/\/\/.*$|\/\*.*?\*\//gm, '').trim();
        if (!item) continue;
        const ownType = /^type\s+/.test(item);
        const name = item
          .replace(/^type\s+/, '')
          .split(rename)[0]!
          .trim();
        out.push({ name, typeOnly: typeOnly || ownType, where: at, from });
      }
    };
    const FROM = String.raw`from\s+['"](ledgerflow(?:/\w+)?)['"]`;
    const entry = (spec: string): Entry => {
      if (!(ENTRIES as readonly string[]).includes(spec))
        throw new Error(`${doc} imports from ${spec}, which package.json does not export`);
      return spec as Entry;
    };
    for (const m of text.matchAll(
      new RegExp(String.raw`import\s+(type\s+)?(?:(\w+)\s*,\s*)?\{([^}]*)\}\s*${FROM}`, 'g'),
    )) {
      if (m[2]) out.push({ name: 'default', typeOnly: Boolean(m[1]), where: where(m.index), from: entry(m[4]!) });
      add(m[3]!, Boolean(m[1]), where(m.index), /\s+as\s+/, entry(m[4]!));
    }
    for (const m of text.matchAll(new RegExp(String.raw`import\s+(type\s+)?(\w+)\s+${FROM}`, 'g'))) {
      out.push({ name: 'default', typeOnly: Boolean(m[1]), where: where(m.index), from: entry(m[3]!) });
    }
    for (const m of text.matchAll(
      /(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*['"](ledgerflow(?:\/\w+)?)['"]\s*\)/g,
    )) {
      add(m[1]!, false, where(m.index), /\s*:\s*/, entry(m[2]!));
    }
  }
  return out;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((res) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      res({
        code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
        stdout,
        stderr: err && typeof err.code !== 'number' ? `${stderr}\n${err.message}` : stderr,
      });
    });
  });
}

/** What each build exports at run time, name → `error` (a class extending Error) or its typeof: loaded as a user loads it. */
type Surface = Record<string, string>;
const PROBE = `
import { createRequire } from 'node:module';
const kinds = (m) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k] === 'function' && m[k].prototype instanceof Error ? 'error' : typeof m[k]]));
const req = createRequire(process.cwd() + '/package.json');
const out = {};
for (const entry of ${JSON.stringify(ENTRIES)}) out[entry] = { esm: kinds(await import(entry)), cjs: kinds(req(entry)) };
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

let entries: Record<Entry, { esm: Surface; cjs: Surface }>;
let built: { esm: Surface; cjs: Surface };

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'dist', 'cjs', 'index.js'))) {
    throw new Error('dist/ is not built: run `npm run build` first (`npm test` does)');
  }
  const r = await run(process.execPath, ['--input-type=module', '-e', PROBE], ROOT);
  if (r.code !== 0) throw new Error(`loading the built package failed:\n${r.stderr}`);
  entries = JSON.parse(r.stdout) as typeof entries;
  built = entries.ledgerflow;
});

describe('the public surface', () => {
  it('the ES module and CommonJS builds export the same names, from every entry', () => {
    for (const entry of ENTRIES) {
      expect(Object.keys(entries[entry].esm).length, entry).toBeGreaterThan(3);
      expect(Object.keys(entries[entry].cjs), entry).toEqual(Object.keys(entries[entry].esm));
    }
  });

  it("a class is one class whichever entry it comes through: what one throws is instanceof the other's", async () => {
    // ledgerflow/internal's writeOutputFile refuses a path with a NUL with a NonRetryableError: ledgerflow's own class, in both builds.
    const r = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { createRequire } from 'node:module';
      const req = createRequire(process.cwd() + '/package.json');
      const thrown = (p) => p.then(() => null, (e) => e);
      const esm = await thrown((await import('ledgerflow/internal')).writeOutputFile('a\\0b', {}));
      const cjs = await thrown(req('ledgerflow/internal').writeOutputFile('a\\0b', {}));
      process.stdout.write(JSON.stringify({
        esm: esm instanceof (await import('ledgerflow')).NonRetryableError,
        cjs: cjs instanceof req('ledgerflow').NonRetryableError,
        cluster: typeof req('ledgerflow/cluster').ClusterClient,
      }));
      process.exit(0);`,
      ],
      ROOT,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ esm: true, cjs: true, cluster: 'function' });
  });

  it('every error class a library caller can receive is exported from ledgerflow, in both builds', () => {
    const classes = errorClasses();
    // The scan itself: it finds the classes it must (a regex that silently matched nothing would pass anything).
    expect(classes.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'LedgerflowError',
        'SignalRefusedError',
        'NonRetryableError',
        'QueryError',
        'CommandError',
      ]),
    );
    const missing = (surface: Surface) =>
      classes.filter((c) => !INTERNAL[c.key] && surface[c.name] !== 'error').map((c) => `${c.name} (${c.file})`);
    expect(
      missing(built.esm),
      'error classes not exported by the ES module build (export them from src/index.ts)',
    ).toEqual([]);
    expect(missing(built.cjs), 'error classes not exported by the CommonJS build').toEqual([]);
    // Each exception names a class that still exists, so the list cannot hide a new class behind an old name.
    const keys = new Set(classes.map((c) => c.key));
    expect(
      Object.keys(INTERNAL).filter((k) => !keys.has(k)),
      'INTERNAL names classes that are gone',
    ).toEqual([]);
  });

  describe('every name the docs import from ledgerflow exists', () => {
    const imports = docImports();
    let scratch = '';
    afterAll(() => {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it('the docs are read: their imports are found', () => {
      const names = new Set(imports.map((i) => i.name));
      for (const n of ['createEngine', 'Handlers', 'openRunIndex', 'Service', 'createWorker'])
        expect(names, `no doc imports ${n}`).toContain(n);
      expect(imports.find((i) => i.name === 'Handlers')?.typeOnly).toBe(true);
    });

    it('as values, in both builds, from the entry each names', () => {
      const values = imports.filter((i) => !i.typeOnly);
      const missing = (build: 'esm' | 'cjs') =>
        values.filter((i) => !(i.name in entries[i.from][build])).map((i) => `${i.name} from ${i.from} (${i.where})`);
      expect(missing('esm'), 'imported by the docs, not exported by the ES module build').toEqual([]);
      expect(missing('cjs'), 'imported by the docs, not exported by the CommonJS build').toEqual([]);
    });

    it('as TypeScript reads them for import and for require (types too)', async () => {
      // A project beside the package, whose node_modules/ledgerflow is this repository: TypeScript resolves
      // 'ledgerflow' through "exports" as in a user's project (.mts → the import types, .cts → the require types).
      scratch = mkdtempSync(join(tmpdir(), 'lf-surface-'));
      mkdirSync(join(scratch, 'node_modules'));
      symlinkSync(ROOT, join(scratch, 'node_modules', 'ledgerflow'), 'dir');
      const source = ENTRIES.map((entry) => {
        const names = [
          ...new Set(
            imports
              .filter((i) => i.from === entry)
              .map((i) => i.name)
              .filter((n) => n !== 'default'),
          ),
        ].sort();
        return names.length > 0 ? `import type { ${names.join(', ')} } from '${entry}';\n` : '';
      }).join('');
      writeFileSync(join(scratch, 'app.mts'), source);
      writeFileSync(join(scratch, 'app.cts'), source);
      writeFileSync(join(scratch, 'package.json'), '{ "private": true }\n');
      writeFileSync(
        join(scratch, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'nodenext',
            target: 'es2022',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: [],
          },
          files: ['app.mts', 'app.cts'],
        }),
      );
      const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], scratch);
      const said = `${r.stdout}${r.stderr}`;
      const missing = [
        ...said.matchAll(/^(app\.[mc]ts)\(\d+,\d+\): error TS\d+: .*no exported member(?: named)? '(\w+)'/gm),
      ].map(
        (m) =>
          `${m[2]!} (${m[1] === 'app.mts' ? 'import' : 'require'} types; ${imports
            .filter((i) => i.name === m[2])
            .map((i) => i.where)
            .join(', ')})`,
      );
      expect(missing, 'imported by the docs, not in the declarations').toEqual([]);
      expect(r.code, said).toBe(0);
    });
  });
});
