/** docs/conductor.md's example, as a user follows it: the same JSON, the same command lines, the same YAML. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { markedBlock } from '../docs/markdown.js';

const page = readFileSync(join(ROOT, 'docs', 'conductor.md'), 'utf8');
const block = (marker: string) => `${markedBlock(page, marker).join('\n')}\n`;

describe('docs/conductor.md', () => {
  it('imports the example, which validates, writes the YAML shown, and runs with its handlers', async () => {
    const dir = tempDir('lf-conductor-');
    writeFileSync(join(dir, 'order.json'), block('conductor-example'));
    writeFileSync(join(dir, 'handlers.mjs'), block('conductor-handlers'));
    const commands = markedBlock(page, 'conductor-commands')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toHaveLength(3);
    const results = [];
    for (const line of commands) {
      const args = line.replace(/^npx ledgerflow /, '').split(/\s+/);
      const r = await cli(args, { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } });
      expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      results.push(r);
    }
    expect(results[0]!.stderr).toContain('✓ order.json → definitions/order_check.yaml');
    expect(readFileSync(join(dir, 'definitions', 'order_check.yaml'), 'utf8')).toBe(block('conductor-output'));
    expect(results[2]!.stdout + results[2]!.stderr).toMatch(/COMPLETED/);
  });

  it('refuses the unsupported example naming each task and why, exit 1, and --json says the same', async () => {
    const fixture = join(ROOT, 'test', 'fixtures', 'conductor', 'unsupported.json');
    const text = await cli(['import', 'conductor', fixture]);
    expect(text.code).toBe(1);
    const shown = page.split('\n').filter((l) => /^ {4}(format_ref|jq_ref) /.test(l));
    expect(shown).toHaveLength(2);
    for (const line of shown) expect(text.stderr).toContain(line.trim());
    const json = await cli(['import', 'conductor', fixture, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      imported: unknown[];
      refused: { file: string; reasons: { task: string; type: string; why: string }[] }[];
    };
    expect(report.imported).toEqual([]);
    expect(report.refused[0]!.reasons.map((r) => `${r.task} ${r.type}`)).toEqual([
      'format_ref INLINE',
      'jq_ref JSON_JQ_TRANSFORM',
      'kafka_ref KAFKA_PUBLISH',
    ]);
  });

  it('is bad usage (exit 2) to name a file that does not exist', async () => {
    const r = await cli(['import', 'conductor', join(tempDir(), 'missing.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not exist: give a Conductor workflow JSON file or a folder of them/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
