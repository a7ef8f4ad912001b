/**
 * Seed 003's templates library ("Phase 5: Workflow Templates Library"), as a
 * user takes each one: `ledgerflow new <name> --dir project`, then the
 * command `ledgerflow templates` prints for it, run in that project. The
 * four the seed names that were missing (file-routing, project-setup,
 * compliance-audit, data-migration) and the seed's name for research
 * coordination (multi-agent-coordination). Real CLI processes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, userProject } from '../helpers/cli.js';
import { loadCatalog } from '../../src/templates/index.js';

/** `ledgerflow new <name>` into a fresh project, then the catalogue's command for it there (`--json` added). */
async function fromCatalog(
  name: string,
  extra: string[] = [],
): Promise<{
  dir: string;
  run: { runId: string; status: string; output: Record<string, unknown> };
  code: number | null;
}> {
  const dir = userProject();
  const made = await cli(['new', name, '--dir', dir]);
  expect(made.code, made.stderr).toBe(0);
  const entry = loadCatalog().templates.find((t) => t.id === name || t.aliases.includes(name))!;
  const args = entry.command.split(' ').slice(1);
  const r = await cli([...args, ...extra, '--json'], { cwd: dir });
  return { dir, run: JSON.parse(r.stdout), code: r.code };
}

describe("seed 003's templates, from `ledgerflow new` to the catalogue's command", () => {
  it("file-routing: each file reaches its station's 0UT.3OX; what no route takes waits for the commander, who sends it on", async () => {
    const { dir, run, code } = await fromCatalog('file-routing');
    expect(code).toBe(3);
    expect(run.status).toBe('WAITING');
    const approved = await cli(['approve', run.runId, 'await_human_approval', '--as', 'commander'], { cwd: dir });
    expect(approved.stdout).toContain(`run ${run.runId} COMPLETED`);
    const out = join(dir, 'routed-stations');
    expect(existsSync(join(out, 'STATION-01', '0UT.3OX', 'inventory-2026-11.csv'))).toBe(true);
    expect(existsSync(join(out, 'STATION-07', '0UT.3OX', 'incident-INC-0042.yaml'))).toBe(true);
    expect(existsSync(join(out, 'CMD.BRIDGE', '0UT.3OX', 'notes.txt'))).toBe(true);
    expect(parse(readFileSync(join(out, 'ROUTING.RECEIPT.yaml'), 'utf8')).routing).toMatchObject({
      mode: 'copy',
      held: [],
      commander: 'approved',
    });
    // copy (the default): the inbox keeps its files.
    expect(existsSync(join(dir, 'definitions', 'samples', 'routing', '1N.3OX', 'notes.txt'))).toBe(true);
  });

  it('project-setup: the project is scaffolded and registered, and a second run refuses to write over it', async () => {
    const { dir, run, code } = await fromCatalog('project-setup');
    expect(code).toBe(0);
    expect(run.output).toMatchObject({ path: 'projects/depot-north', files: 4 });
    const path = join(dir, 'projects', 'depot-north');
    expect(readFileSync(join(path, 'README.md'), 'utf8')).toContain('# depot-north');
    expect(parse(readFileSync(join(path, '.3ox', 'INDEX.yaml'), 'utf8'))).toMatchObject({
      project: 'depot-north',
      owner: 'CMD.BRIDGE',
    });
    expect(Object.keys(parse(readFileSync(join(path, '.3ox', 'PROJECT.yaml'), 'utf8')).files)).toHaveLength(4);
    const again = await cli(
      [
        'run',
        'definitions/project-setup.yaml',
        '--project',
        'depot-north',
        '--layout',
        'definitions/samples/project-setup/LAYOUT.yaml',
      ],
      { cwd: dir },
    );
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/already holds a project/);
  });

  it('compliance-audit: one MAP item per folder, the report names each violation, the failing audit waits for the sign-off', async () => {
    const { dir, run, code } = await fromCatalog('compliance-audit');
    expect(code).toBe(3);
    const report = parse(readFileSync(join(dir, 'audit-reports', 'audit.yaml'), 'utf8')).audit;
    expect(report).toMatchObject({ status: 'FAIL', folders: 2, failing: 1 });
    expect(report.results[1].violations.map((v: { rule: string }) => v.rule)).toEqual([
      'SECURITY-PRESENT',
      'NO-TEMP-FILES',
    ]);
    const status = JSON.parse((await cli(['status', run.runId, '--json'], { cwd: dir })).stdout);
    expect(status.tasks.check_folders.items).toHaveLength(2);
    expect(status.tasks.sign_off.status).toBe('PENDING_APPROVAL');
    expect((await cli(['approve', run.runId, 'sign_off', '--as', 'commander'], { cwd: dir })).stdout).toContain(
      'COMPLETED',
    );
  });

  it('data-migration: every copy verified against the manifest; --dry_run copies nothing; --remove_sources moves', async () => {
    const { dir, run, code } = await fromCatalog('data-migration');
    expect(code).toBe(0);
    expect(run.output).toMatchObject({ status: 'MIGRATED' });
    const manifest = parse(readFileSync(join(dir, 'migrated', 'MIGRATION.MANIFEST.yaml'), 'utf8')).migration;
    expect(manifest.verified).toEqual(['receipts/R-1001.yaml', 'receipts/R-1002.yaml', 'stock.csv']);
    expect(readFileSync(join(dir, 'migrated', 'stock.csv'), 'utf8')).toBe(
      readFileSync(join(dir, 'definitions/samples/data-migration/source/stock.csv'), 'utf8'),
    );

    const dry = JSON.parse(
      (
        await cli(
          [
            'run',
            'definitions/data-migration.yaml',
            '--source',
            'definitions/samples/data-migration/source',
            '--target',
            'planned',
            '--dry_run',
            'true',
            '--json',
          ],
          { cwd: dir },
        )
      ).stdout,
    );
    expect(dry.output).toMatchObject({ status: 'PLANNED' });
    expect(existsSync(join(dir, 'planned', 'stock.csv'))).toBe(false);

    const moved = await cli(
      [
        'run',
        'definitions/data-migration.yaml',
        '--source',
        'definitions/samples/data-migration/source',
        '--target',
        'moved',
        '--remove_sources',
        'true',
      ],
      { cwd: dir },
    );
    expect(moved.code, moved.stderr).toBe(0);
    expect(existsSync(join(dir, 'moved', 'stock.csv'))).toBe(true);
    expect(existsSync(join(dir, 'definitions/samples/data-migration/source/stock.csv'))).toBe(false);
  });

  it("multi-agent-coordination, the seed's name, is research coordination: `new` copies it and `templates` names the alias", async () => {
    const dir = userProject();
    const made = await cli(['new', 'multi-agent-coordination', '--dir', dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('template research-coordination copied');
    expect((await cli(['templates'])).stdout).toMatch(/^research-coordination\s+.*\(also: multi-agent-coordination\)/m);
    const unknown = await cli(['new', 'multi-agent-coordinatoin', '--dir', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/did you mean "multi-agent-coordination"/);
  });
});
