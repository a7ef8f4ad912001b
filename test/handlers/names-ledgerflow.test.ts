/**
 * docs/handlers.md: `import … from 'ledgerflow'` in a handler module works
 * whether or not the project installed ledgerflow, also from a module the
 * handler imports; the resolve hook's thread is started only for a module
 * that may import it (src/handlers/names-ledgerflow.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mayImportLedgerflow } from '../../src/handlers/names-ledgerflow.js';
import { cli, tempDir } from '../helpers/cli.js';

function files(entries: Record<string, string>): string {
  const dir = tempDir('lf-names-');
  for (const [name, text] of Object.entries(entries)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('mayImportLedgerflow', () => {
  it('no for a module that imports no ledgerflow, directly or through its relative imports', () => {
    const dir = files({
      'h.mjs':
        "import { x } from './lib/x.js';\nimport fs from 'node:fs';\nexport default { async a() { return x; } };\n",
      'lib/x.js': "export { y as x } from './y';\nimport '../side.mjs';\n",
      'lib/y.js': 'export const y = 1;\n',
      'side.mjs': "import('./h.mjs');\n",
    });
    expect(mayImportLedgerflow(join(dir, 'h.mjs'))).toBe(false);
  });

  it('yes when the module, or one it reaches, names ledgerflow', () => {
    const direct = files({ 'h.mjs': "import { NonRetryableError } from 'ledgerflow';\nexport default {};\n" });
    expect(mayImportLedgerflow(join(direct, 'h.mjs'))).toBe(true);
    const deep = files({
      'h.mjs': "import { fail } from './lib/index.mjs';\nexport default { fail };\n",
      'lib/index.mjs': "export * from './errors';\n",
      'lib/errors.mjs':
        'import { NonRetryableError } from "ledgerflow";\nexport const fail = () => { throw new NonRetryableError(\'no\'); };\n',
    });
    expect(mayImportLedgerflow(join(deep, 'h.mjs'))).toBe(true);
    // A .js outside a "type": "module" package may still be an ES module (Node 20.19+ detects `import`).
    const js = files({ 'h.js': "import { NonRetryableError } from 'ledgerflow';\nexport default {};\n" });
    expect(mayImportLedgerflow(join(js, 'h.js'))).toBe(true);
    const lazy = files({
      'h.mjs': "export default { async a() { return (await import('./later.mjs')).a(); } };\n",
      'later.mjs': "export { a } from 'ledgerflow/x';\n",
    });
    expect(mayImportLedgerflow(join(lazy, 'h.mjs'))).toBe(true);
  });

  it('no for CommonJS that only requires it (the CommonJS resolver finds it without a thread), yes for its import()', () => {
    const required = files({
      'h.mjs': "export { fail } from './errors.cjs';\n",
      'errors.cjs':
        "const { NonRetryableError } = require('ledgerflow');\nexports.fail = () => { throw new NonRetryableError('no'); };\n",
    });
    expect(mayImportLedgerflow(join(required, 'h.mjs'))).toBe(false);
    const ts = files({ 'h.ts': "import { NonRetryableError } from 'ledgerflow';\nexport default {};\n" }); // no package.json: tsx loads it as CommonJS
    expect(mayImportLedgerflow(join(ts, 'h.ts'))).toBe(false);
    const imported = files({ 'h.cjs': "module.exports = { async a() { return import('ledgerflow'); } };\n" });
    expect(mayImportLedgerflow(join(imported, 'h.cjs'))).toBe(true);
  });

  it('yes when it cannot tell: a computed import or require, a # import', () => {
    for (const text of [
      'const m = await import(name);',
      'require(`./${x}`);',
      "import(`./a.mjs`).then(() => require('./b' + c));",
      "import { a } from '#lib/a.js';",
    ]) {
      const dir = files({ 'h.mjs': `${text}\nexport default {};\n` });
      expect(mayImportLedgerflow(join(dir, 'h.mjs')), text).toBe(true);
    }
  });
});

describe('a handler that imports ledgerflow through a module of its own, in a project without ledgerflow installed', () => {
  it('runs (needs dist/)', async () => {
    const dir = files({
      'package.json': JSON.stringify({ name: 'p', version: '1.0.0', type: 'module' }),
      'wf.yaml':
        'workflow:\n  id: deep\n  version: 1\n  handlers: ./handlers.mjs\n  tasks:\n    - { id: check, type: SIMPLE }\n',
      'handlers.mjs': "import { refuse } from './lib/refuse.mjs';\nexport default { async check() { refuse(); } };\n",
      'lib/refuse.mjs':
        "import { NonRetryableError } from 'ledgerflow';\nexport function refuse() { throw new NonRetryableError('refused for good'); }\n",
    });
    const r = await cli(['run', 'wf.yaml', '--json'], { cwd: dir });
    expect(r.stderr).not.toContain('Cannot find');
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'FAILED' });
    expect(r.stdout + r.stderr).toContain('refused for good');
  });
});

describe('a TypeScript handler importing ledgerflow, in a project without ledgerflow installed, CommonJS or ES module (needs dist/)', () => {
  for (const type of [undefined, 'module'] as const) {
    it(`runs with "type": ${type ?? '(none)'}`, async () => {
      const dir = files({
        'package.json': JSON.stringify({ name: 'p', version: '1.0.0', ...(type ? { type } : {}) }),
        'wf.yaml':
          'workflow:\n  id: ts\n  version: 1\n  handlers: ./handlers.ts\n  tasks:\n    - { id: greet, type: SIMPLE }\n    - { id: check, type: SIMPLE, depends_on: [greet] }\n',
        'handlers.ts':
          "import { NonRetryableError, type Handlers } from 'ledgerflow';\nimport { greeting } from './lib/greeting.js';\n" +
          "const handlers: Handlers = {\n  async greet() { return { greeting: greeting('ts') }; },\n  async check() { throw new NonRetryableError('checked: no retry'); },\n};\nexport default handlers;\n",
        'lib/greeting.ts': 'export const greeting = (name: string): string => `hello ${name}`;\n',
      });
      const r = await cli(['run', 'wf.yaml', '--json'], { cwd: dir });
      expect(r.stderr).not.toContain('Cannot find');
      expect(r.code, r.stderr).toBe(1);
      const view = JSON.parse(r.stdout) as {
        status: string;
        tasks: Record<string, { status: string; output?: unknown; attempts?: number }>;
      };
      expect(view.status).toBe('FAILED');
      expect(r.stdout).toContain('hello ts');
      expect(r.stdout + r.stderr).toContain('checked: no retry');
    });
  }
});
