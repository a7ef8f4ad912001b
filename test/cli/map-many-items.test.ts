/**
 * docs/language.md, "MAP: fan out over a list", at the size users reach: the page's shape (list_folders, scan_each
 * with max_concurrency 4, tolerate_failures 1 and a retry policy, report reading the results) over thousands of
 * folders, one of which cannot be read. Each item's event costs the same whatever the list's length (a list of 20,000
 * took a minute where 2,000 took two seconds); what a user sees of it: the run completes, `status` sums the items up,
 * `--json` lists each, the report gets every result in item order with null for the failed one, `replay` finds every
 * state as recorded. On the embedded store (`ledgerflow run`), and on NATS with an engine running the handlers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { cli, statusWhen, tempDir } from '../helpers/cli.js';

const DEFINITION = `workflow:
  id: scan-depots
  version: 1
  handlers: ./scan.mjs
  input:
    required:
      - count: { type: number }
  tasks:
    - id: list_folders
      type: SIMPLE
      input: { count: "\${workflow.input.count}" }
      output: [folders]
    - id: scan_each
      type: MAP
      depends_on: [list_folders]
      items: "\${list_folders.output.folders}"
      handler: scan_folder                 # called once per folder
      input: { path: "\${item}", position: "\${index}" }
      max_concurrency: 4                   # never more items in flight, across engines too
      tolerate_failures: 1                 # one folder may fail; the MAP still completes
      retry_policy: { max_attempts: 2, initial_delay: 1s }   # per item
      timeout: 5m                          # per item attempt
    - id: report
      type: SIMPLE
      depends_on: [scan_each]
      input: { scans: "\${scan_each.output.results}" }   # in item order, null for a failed item
`;

const HANDLERS = `export default {
  list_folders: async ({ count }) => ({ folders: Array.from({ length: count }, (_, i) => \`depot-\${i}\`) }),
  scan_folder: async ({ path, position }) => {
    if (path === 'depot-1234') throw new Error(\`\${path} is unreadable\`);
    return { path, position, files: position % 7 };
  },
  report: async ({ scans }) => ({
    scanned: scans.filter((s) => s !== null).length,
    failed: scans.indexOf(null),
    inOrder: scans.every((s, i) => s === null || (s.position === i && s.path === \`depot-\${i}\`)),
  }),
};
`;

function project(): string {
  const dir = tempDir('lf-map-many-');
  mkdirSync(join(dir, 'definitions'));
  writeFileSync(join(dir, 'definitions', 'scan.yaml'), DEFINITION);
  writeFileSync(join(dir, 'definitions', 'scan.mjs'), HANDLERS);
  return dir;
}

interface ItemView {
  status: string;
  attempts: number;
}
interface View {
  runId: string;
  status: string;
  tasks: Record<string, { status: string; output?: unknown; items?: ItemView[] }>;
}

/** What the user checks of the finished run, whichever store holds it. */
function expectScanned(view: View, count: number): void {
  expect(view.status).toBe('COMPLETED');
  const items = view.tasks.scan_each!.items!;
  expect(items).toHaveLength(count);
  expect(items.filter((it) => it.status === 'COMPLETED')).toHaveLength(count - 1);
  expect(items[1234]).toMatchObject({ status: 'FAILED', attempts: 2 });
  expect(view.tasks.report!.output).toEqual({ scanned: count - 1, failed: 1234, inOrder: true });
}

describe('a MAP over thousands of items (docs/language.md), on the embedded store', () => {
  it('runs 3,000 folders four at a time, one failing after its retry: status, --json, the report and replay', async () => {
    const dir = project();
    const run = await cli(['run', 'definitions/scan.yaml', '--count', '3000'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('scan_each[1234] attempt 1 failed: depot-1234 is unreadable — retrying');
    expect(run.stdout).toContain('scan_each[2999]');
    const runId = /run (\S+) COMPLETED/.exec(run.stdout)![1]!;

    const status = await cli(['status', runId], { cwd: dir });
    expect(status.stdout).toMatch(/scan_each\s+COMPLETED\s+items: 2999 of 3000 done, 1 failed/);
    expectScanned(JSON.parse((await cli(['status', runId, '--json'], { cwd: dir })).stdout), 3_000);

    const replay = await cli(['replay', runId], { cwd: dir });
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('every event leads to the state it recorded');
  }, 120_000);
});

describe.skipIf(noNats)('a MAP over thousands of items (docs/language.md), on NATS', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });

  it('an engine running the handlers takes 1,500 folders four at a time to the same end', async () => {
    const dir = project();
    const engine = spawnLedgerflow(
      'engine',
      ['engine', '--nats', c.as('engine'), '--handlers', './definitions/scan.mjs'],
      {
        cwd: dir,
        markers: join(dir, 'm'),
      },
    );
    procs.push(engine);
    await engine.started();
    const lf = (...args: string[]) => cli([...args, '--nats', c.as('engine')], { cwd: dir });
    expect((await lf('deploy', 'definitions/scan.yaml')).code).toBe(0);
    const started = await lf('start', 'scan-depots', '--count', '1500', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    expectScanned(await statusWhen<View>(lf, runId, 'COMPLETED', 90_000), 1_500);
    const replay = await lf('replay', runId);
    expect(replay.stdout).toContain('every event leads to the state it recorded');
  }, 150_000);
});
