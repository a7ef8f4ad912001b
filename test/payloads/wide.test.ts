/**
 * docs/language.md "How deep a value may nest" (its last paragraph) and docs/triggers.md: a refusal says what is wrong
 * without growing with what it refuses. Before, a start with 500,000 undeclared inputs was refused with every name in
 * the message (4 MB on stderr); an event with 300,000 unknown keys sent to the dashboard's API was answered with a
 * 3.8 MB 400 and kept as an 11 MB dead letter (its reason and problems each listing every key); an event with 20,000
 * wrong items kept a 2 MB dead letter for 80 KB of event. And what the CLI wrote to stderr past 64 KiB was cut at
 * 65,536 bytes when stderr was a pipe (`validate … 2>&1 | less`): the process exited before the pipe took the rest. Validating a definition with thousands
 * of unknown references compared each with every task id for a "did you mean" (3,000 of them: 6 s of CPU).
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { startUiProcess } from '../server/ui-helpers.js';

const WIDE = `workflow:
  id: wide
  input:
    optional: [note]
    required:
      - count: { type: number }
  tasks:
    - { id: pick, type: SET, values: { n: "\${workflow.input.count}" } }
`;
const NUMS_EVENT = `type: nums
description: numbers, and nothing else
schema:
  type: object
  additionalProperties: false
  properties:
    xs: { type: array, items: { type: number } }
sample: { xs: [1, 2] }
`;
const ON_NUMS = `workflow:
  id: on_nums
  triggers:
    - event: nums
  tasks:
    - { id: seen, type: SET, values: { seen: true } }
`;

const names = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const FIRST_TEN = '"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"';

function project(): string {
  const dir = tempDir('lf-wide-');
  mkdirSync(join(dir, 'definitions'));
  mkdirSync(join(dir, 'events'));
  writeFileSync(join(dir, 'definitions', 'wide.yaml'), WIDE);
  writeFileSync(join(dir, 'definitions', 'on-nums.yaml'), ON_NUMS);
  writeFileSync(join(dir, 'events', 'nums.yaml'), NUMS_EVENT);
  writeFileSync(join(dir, 'undeclared.json'), JSON.stringify({ count: 1, ...names(20_000) }));
  writeFileSync(join(dir, 'long-count.json'), JSON.stringify({ count: 'x'.repeat(70_000) }));
  writeFileSync(join(dir, 'object-count.json'), JSON.stringify({ count: { a: 1, b: 'x'.repeat(70_000), c: [] } }));
  // 3,000 tasks, each depending on a task that does not exist: 3,000 errors, about 230 KB of them.
  const tasks = Array.from(
    { length: 3_000 },
    (_, i) => `    - { id: t${i}, type: SET, values: { a: 1 }, depends_on: [nope${i}] }`,
  );
  writeFileSync(join(dir, 'broken.yaml'), `workflow:\n  id: broken\n  tasks:\n${tasks.join('\n')}\n`);
  return dir;
}

describe('a refusal that does not grow with what it refuses, on the embedded store', () => {
  it('a start with 20,000 undeclared inputs, and a value quoted in a refusal, are said in a few hundred bytes', async () => {
    const dir = project();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const run = (args: string[]) => cli(args, { cwd: dir, env });

    const refused = await run(['start', 'wide', '--input-file', 'undeclared.json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `error: unknown inputs ${FIRST_TEN} and 19,990 more for workflow wide; declared inputs: count, note`,
    );
    const json = await run(['run', 'definitions/wide.yaml', '--input-file', 'undeclared.json', '--json']);
    expect(json.code).toBe(2);
    const { error } = JSON.parse(json.stdout) as { error: { code: string; meta: Record<string, unknown> } };
    expect(error.code).toBe('LF_INPUT_INVALID');
    expect(error.meta).toEqual({
      unknown: Object.keys(names(10)),
      unknownCount: 20_000,
      declared: ['count', 'note'],
    });

    const long = await run(['start', 'wide', '--input-file', 'long-count.json']);
    expect(long.code).toBe(2);
    expect(long.stderr.trim()).toBe(
      `error: input count must be a number, got "${'x'.repeat(60)}"… (70,000 characters)`,
    );
    const object = await run(['start', 'wide', '--input-file', 'object-count.json']);
    expect(object.stderr.trim()).toBe('error: input count must be a number, got an object of 3 keys');
    // A value short enough is quoted as it is.
    const small = await run(['start', 'wide', '--input', '{"count": {"a": [1, 2]}}']);
    expect(small.stderr.trim()).toBe('error: input count must be a number, got {"a":[1,2]}');
    expect(JSON.parse((await run(['list', '--json'])).stdout)).toEqual([]);
  }, 60_000);

  it('an event failing its schema in thousands of places: 20 problems and a count, a dead letter the size of the event', async () => {
    const dir = project();
    const env = { LEDGERFLOW_STORE: join(dir, 'store') };
    const wrongItems = JSON.stringify({ xs: Array.from({ length: 20_000 }, () => 'a') });
    const items = await cli(['emit', 'nums', '--data', wrongItems], { cwd: dir, env });
    expect(items.code).toBe(2);
    const listed = Array.from({ length: 20 }, (_, i) => `data.xs[${i}]: expected number, received string`).join('; ');
    expect(items.stderr).toContain(`does not fit the schema of nums: ${listed}; and 19,980 more problems`);
    expect(items.stderr.length).toBeLessThan(2_000);

    const unknownKeys = JSON.stringify({ xs: [1], ...names(9_000) });
    const keys = await cli(['emit', 'nums', '--data', unknownKeys], { cwd: dir, env });
    expect(keys.code).toBe(2);
    expect(keys.stderr).toContain(
      `does not fit the schema of nums: data: Unrecognized keys: ${FIRST_TEN} and 8,990 more`,
    );
    expect(keys.stderr.length).toBeLessThan(1_000);

    // Both kept whole (the event as sent), each with a reason of a few hundred bytes.
    const folder = join(dir, 'store', 'dead-letter');
    const letters = readdirSync(folder).flatMap((f) =>
      readFileSync(join(folder, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { reason: string; problems: string[]; event: { data: unknown } }),
    );
    expect(letters.map((l) => l.event.data)).toEqual([JSON.parse(wrongItems), JSON.parse(unknownKeys)]);
    for (const l of letters) {
      expect(l.reason.length).toBeLessThan(1_500);
      expect(l.problems.length).toBeLessThanOrEqual(21);
    }
    const sent = wrongItems.length + unknownKeys.length;
    expect(statSync(join(folder, readdirSync(folder)[0]!)).size).toBeLessThan(sent + 8_000);
    expect(JSON.parse((await cli(['list', '--json'], { cwd: dir, env })).stdout)).toEqual([]);
  }, 60_000);

  it("the dashboard's API answers an event with 50,000 unknown keys in a few hundred bytes", async () => {
    const dir = project();
    const ui = await startUiProcess(['--store', join(dir, 'store')], ['--definitions', join(dir, 'definitions')], {
      cwd: dir,
    });
    try {
      const r = await fetch(`${ui.base}/api/events/nums`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { xs: [1], ...names(50_000) } }),
      });
      expect(r.status).toBe(400);
      const text = await r.text();
      expect(text.length).toBeLessThan(1_000);
      expect(JSON.parse(text)).toMatchObject({
        error: { code: 'LF_INPUT_INVALID', field: 'data' },
      });
      expect(text).toContain('and 49,990 more');
    } finally {
      await ui.stop();
    }
  }, 60_000);

  it('what the CLI writes to a piped stderr past 64 KiB arrives whole (validate of 1,500 errors)', async () => {
    const dir = project();
    for (const verb of [['validate'], ['run']]) {
      const r = await cli([...verb, 'broken.yaml'], { cwd: dir });
      expect(r.code, verb[0]).toBe(2);
      expect(r.stderr.length, verb[0]).toBeGreaterThan(100_000);
      expect(r.stderr, verb[0]).toContain('unknown task "nope1499"');
    }
  }, 60_000);
});

describe.skipIf(noNats)('a refusal that does not grow with what it refuses, on NATS', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });

  it('a start with 20,000 undeclared inputs and an event failing in 20,000 places, with engines running the handlers', async () => {
    const dir = project();
    const engine = spawnLedgerflow('engine', ['engine', '--nats', c.as('engine'), '--handlers', './none.mjs'], {
      cwd: dir,
      markers: join(dir, 'm'),
    });
    writeFileSync(join(dir, 'none.mjs'), 'export default {};\n');
    procs.push(engine);
    await engine.started();
    const nats = ['--nats', c.as('engine')];
    for (const file of ['wide.yaml', 'on-nums.yaml'])
      expect((await cli(['deploy', `definitions/${file}`, ...nats], { cwd: dir })).code).toBe(0);

    const refused = await cli(['start', 'wide', '--input-file', 'undeclared.json', ...nats], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`unknown inputs ${FIRST_TEN} and 19,990 more for workflow wide`);
    expect(refused.stderr.length).toBeLessThan(1_000);

    const wrongItems = JSON.stringify({ xs: Array.from({ length: 20_000 }, () => 'a') });
    const items = await cli(['emit', 'nums', '--data', wrongItems, '--events', 'events', ...nats], { cwd: dir });
    expect(items.code, items.stderr).toBe(2);
    expect(items.stderr).toContain('and 19,980 more problems');
    expect(items.stderr.length).toBeLessThan(2_000);
    expect(engine.alive()).toBe(true);
    const fine = await cli(['start', 'wide', '--count', '3', '--json', ...nats], { cwd: dir });
    expect(fine.code, fine.stderr).toBe(0);
  }, 120_000);
});
