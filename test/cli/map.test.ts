/**
 * docs/coordination.md, "The dependency map", as a user does it: the page's
 * own definitions (read from the page's YAML blocks) in `definitions/`, then
 * `ledgerflow map` printing exactly the page's text, and `--json` the same
 * map on the embedded store and on NATS (the workflows deployed).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'coordination.md'), 'utf8');
/** The page's ```yaml blocks that start `# definitions/<file>`, by file name. */
const pageDefinitions = (): Map<string, string> =>
  new Map([...PAGE.matchAll(/```yaml\n# definitions\/(\S+)\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
/** The page's `$ npx ledgerflow map` block, without the command line. */
const pageOutput = (): string => /```text\n\$ npx ledgerflow map\n([\s\S]*?)\n```/.exec(PAGE)![1]!;
const oneSet = (id: string) =>
  `workflow:\n  id: ${id}\n  tasks:\n    - { id: step, type: SET, values: { done: true } }\n`;

let dir = '';
beforeAll(() => {
  dir = tempDir('lf-map-');
  mkdirSync(join(dir, 'definitions'));
  const defs = pageDefinitions();
  expect([...defs.keys()].sort()).toEqual(['audit.yaml', 'orders.yaml', 'shipping.yaml']);
  for (const [file, text] of defs) writeFileSync(join(dir, 'definitions', file), text);
  // "(and payment, orders-cleanup, each one SET task)"
  for (const id of ['payment', 'orders-cleanup']) writeFileSync(join(dir, 'definitions', `${id}.yaml`), oneSet(id));
});

describe('ledgerflow map (docs/coordination.md)', () => {
  it("prints the page's map of its definitions, and --json the edges, unheard, dynamic and missing", async () => {
    const text = await cli(['map'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout.trimEnd()).toBe(pageOutput());
    const json = JSON.parse((await cli(['map', '--json'], { cwd: dir })).stdout);
    expect(json.edges).toEqual([
      { from: 'orders', to: 'payment', kind: 'sub_workflow', task: 'charge' },
      { from: 'orders', to: 'shipping', kind: 'emit', task: 'announce', event: 'order_placed' },
      { from: 'orders', to: 'orders-cleanup', kind: 'failure_workflow' },
    ]);
    expect(json.unheard).toEqual([{ from: 'audit', task: 'shout', event: 'nobody_hears' }]);
    expect(json.dynamic).toEqual([{ from: 'audit', task: 'tell', event: '${workflow.input.kind}' }]);
    expect(json.workflows.find((w: { id: string }) => w.id === 'shipping')).toEqual({
      id: 'shipping',
      version: 1,
      listens: ['order_placed'],
      schedules: [],
    });
  });

  it('a failure handler of built-in steps, a child nobody defines, a schedule', async () => {
    const d = tempDir('lf-map-2-');
    mkdirSync(join(d, 'definitions'));
    writeFileSync(
      join(d, 'definitions', 'nightly.yaml'),
      `workflow:
  id: nightly
  triggers:
    - { cron: "0 2 * * *" }
  tasks:
    - { id: each, type: MAP, items: "\${workflow.input.list}", workflow: ghost }
  failure_workflow: { steps: [log_to_incident] }
  input:
    optional:
      - list: { type: array, default: [] }
`,
    );
    const r = await cli(['map'], { cwd: d });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nightly v1  ← schedule 0 2 * * *');
    expect(r.stdout).toContain('  → ghost  not defined here (task each)');
    expect(r.stdout).toContain('  → nightly-failure-handler  on failure (built-in steps log_to_incident)');
  });
});

describe.skipIf(noNats)('ledgerflow map --nats: the deployed workflows, the same shape', () => {
  const c = useCluster();
  it('maps what was deployed as the embedded store maps the folder', async () => {
    for (const f of ['orders', 'payment', 'shipping', 'orders-cleanup', 'audit']) {
      const r = await cli(['--nats', c.url, 'deploy', join(dir, 'definitions', `${f}.yaml`)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const nats = JSON.parse((await cli(['--nats', c.url, 'map', '--json'])).stdout);
    const local = JSON.parse((await cli(['map', '--json'], { cwd: dir })).stdout);
    // The cluster may hold other tests' workflows: the page's five map alike.
    const five = new Set(['orders', 'payment', 'shipping', 'orders-cleanup', 'audit']);
    expect(nats.edges.filter((e: { from: string }) => five.has(e.from))).toEqual(local.edges);
    expect(nats.workflows.filter((w: { id: string }) => five.has(w.id))).toEqual(local.workflows);
  }, 60_000);
});
