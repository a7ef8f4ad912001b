/**
 * docs/library.md#templates-from-a-package as a user runs it: templates from a folder, a tarball made by
 * `npm pack`, and an npm package name (offline here: its refusal is checked, nothing fetched).
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const page = readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'template-package');

describe('templates from a package (docs/library.md)', () => {
  it('lists, and copies from a folder, a tarball and (offline: refused cleanly) an npm package', async () => {
    const dir = tempDir('lf-tpl-pkg-');
    cpSync(FIXTURE, join(dir, 'acme-ledgerflow-templates'), { recursive: true });
    const lines = markedBlock(page, 'package-commands')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    expect(lines).toHaveLength(5);
    const [list, fromFolder, pack, fromTarball, fromNpm] = lines as [string, string, string, string, string];
    const lf = (line: string, env: Record<string, string> = {}) =>
      cli(line.replace(/^npx ledgerflow /, '').split(/\s+/), { cwd: dir, env });

    const listed = await lf(list);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^onboarding +Onboarding/m);
    expect(listed.stdout).toMatch(/^offboarding +Offboarding/m);
    expect(listed.stdout).toContain('ledgerflow new ./acme-ledgerflow-templates/<template>');

    const folder = await lf(fromFolder);
    expect(folder.code, folder.stderr).toBe(0);
    expect(readFileSync(join(dir, 'people', 'definitions', 'onboarding.yaml'), 'utf8')).toBe(
      readFileSync(join(FIXTURE, 'definitions', 'onboarding.yaml'), 'utf8'),
    );

    const packed = spawnSync('npm', pack.split(/\s+/).slice(1), { cwd: dir, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    expect(existsSync(join(dir, 'acme-ledgerflow-templates-1.0.0.tgz'))).toBe(true);
    const tarball = await lf(fromTarball);
    expect(tarball.code, tarball.stderr).toBe(0);
    expect(tarball.stdout).toContain('+ definitions/offboarding.yaml');
    expect(tarball.stdout).toContain('= definitions/handlers/people.mjs (already there, the same)');

    // No network in the tests: npm answers from its cache only, which does not hold the package.
    const npm = await lf(fromNpm, { npm_config_offline: 'true' });
    expect(npm.code).toBe(2);
    expect(npm.stderr).toMatch(
      /cannot fetch the npm package @acme\/ledgerflow-templates: npm pack @acme\/ledgerflow-templates failed/,
    );
    expect(existsSync(join(dir, 'people-too'))).toBe(false);
  });

  it('validates a template before copying anything, and asks which template when a source holds several', async () => {
    const dir = tempDir('lf-tpl-pkg-');
    const broken = await cli(['new', `${FIXTURE}/broken`, '--dir', join(dir, 'out')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(
      'template broken does not validate (nothing was written): definitions/broken.yaml:7:20: unknown task "nowhere"',
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
    const which = await cli(['new', FIXTURE, '--dir', join(dir, 'out')]);
    expect(which.code).toBe(2);
    expect(which.stderr).toContain('holds 3 templates: name one as');
    expect(which.stderr).toContain('(onboarding, offboarding, broken)');
  });
});
