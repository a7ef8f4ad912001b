import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, loadDefinitionFile, loadHandlerModule, replayRun } from '../../src/index.js';
import { compile } from '../../src/exports/internal.js';
import { ROOT, tempDir } from '../helpers/cli.js';

describe('the library API (import from "ledgerflow")', () => {
  it('loads, compiles and runs the bundled inventory workflow on the embedded file store, then replays it', async () => {
    const cwd = tempDir();
    const loaded = loadDefinitionFile(join(ROOT, 'definitions', 'inventory-validation.yaml'));
    // The example's flaw, kept in the bundled copy: its FAIL_SOFT case (its failure steps are the built-in ones).
    expect(loaded.warnings.map((w) => w.code)).toEqual(['LF_UNKNOWN_CASE_TARGET']);
    const compiled = compile(loaded.definition);
    expect(compiled.machine.id).toBe('inventory-validation-v1');
    const handlers = await loadHandlerModule(loaded.handlersPath!);
    const engine = createEngine({ storeDir: join(cwd, 'store') });
    // The receipt goes into the folder it covers: a copy of the sample, so the repository's stays as it is.
    cpSync(join(ROOT, 'definitions/samples/0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
    const prev = process.cwd();
    process.chdir(cwd);
    try {
      const view = await engine.run(
        loaded.definition,
        {
          target_folder: '0UT.3OX',
          policy_file: join(ROOT, 'definitions/samples/INVENTORY.POLICY.yaml'),
        },
        { handlers },
      );
      expect(view.status).toBe('COMPLETED');
      expect(readFileSync(join(cwd, '0UT.3OX/VALIDATION.RECEIPT.yaml'), 'utf8')).toContain('compliance_status: PASS');
      const runs = await engine.list({ workflowId: 'inventory-validation-v1' });
      expect(runs.map((r) => r.runId)).toEqual([view.runId]);
      const report = replayRun(await engine.events(view.runId));
      expect(report.divergence).toBeNull();
      expect(report.view).toEqual(view);
    } finally {
      process.chdir(prev);
    }
  });
});

describe("library errors name what is missing in the library's terms (the CLI adds its flags)", () => {
  it('a missing required input is named, with no CLI flag in the message; the CLI says --<name> <value>', async () => {
    const loaded = loadDefinitionFile(join(ROOT, 'definitions', 'inventory-validation-sh.yaml'));
    const engine = createEngine({ storeDir: join(tempDir(), 'store') });
    const err = await engine.start(loaded.definition, { target_folder: 'x' }).then(
      () => {
        throw new Error('started');
      },
      (e: unknown) => e as { message: string; code: string; meta: { missing: string[] } },
    );
    expect(err).toMatchObject({ code: 'LF_INPUT_INVALID', meta: { missing: ['policy_file'] } });
    expect(err.message).toMatch(/missing required input policy_file for workflow inventory-validation-sh/);
    expect(err.message).not.toMatch(/--/);
    const { inCliTerms } = await import('../../src/cli/flags/flag-forms.js');
    expect((inCliTerms(err) as Error).message).toMatch(/\(pass --policy_file <value>, or --input-file <file>\)/);
  });

  it('an unknown run is named without CLI flags; the CLI says which flags choose the store', async () => {
    const engine = createEngine({ storeDir: join(tempDir(), 'store') });
    const err = await engine.status('nope').then(
      () => {
        throw new Error('found');
      },
      (e: unknown) => e as Error & { code: string },
    );
    expect(err.code).toBe('LF_RUN_NOT_FOUND');
    expect(err.message).toBe('run nope does not exist in this store');
    const { inCliTerms } = await import('../../src/cli/flags/flag-forms.js');
    expect((inCliTerms(err) as Error).message).toMatch(
      /\(check the id with `ledgerflow list`, or pass --store <dir> \/ --nats <url>\)/,
    );
  });
});
