/**
 * Search attributes (docs/operations.md#search-attributes), from the doc's
 * own workflow: runs started with the CLI on the embedded store and over a
 * real nats-server, found with `list --where`, the HTTP API's `where` and the
 * bulk actions' `where=`; bad conditions exit 2 naming them, a query that
 * matches nothing exits 0 and says so.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { startUiProcess, type UiProcess } from '../server/ui-helpers.js';

/** The first yaml block of the doc's "Search attributes" section. */
function docWorkflow(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Search attributes'));
  return /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
}

interface Row {
  runId: string;
  search?: Record<string, unknown>;
}

function suite(name: string, globals: () => string[], before?: (file: string) => Promise<void>) {
  describe(name, () => {
    let file: string;
    const ids: Record<string, string> = {};
    const list = async (...args: string[]) => {
      const r = await cli([...globals(), 'list', ...args]);
      return { ...r, rows: r.code === 0 && args.includes('--json') ? (JSON.parse(r.stdout) as Row[]) : [] };
    };

    beforeAll(async () => {
      const dir = tempDir('lf-search-');
      file = join(dir, 'orders.yaml');
      writeFileSync(file, docWorkflow());
      await before?.(file);
      for (const [customer, amount, region] of [
        ['42', '420', 'eu'],
        ['7', '70', 'us'],
        ['42', '99', 'us'],
      ] as const) {
        const r = await cli([
          ...globals(),
          ...(before ? ['start', 'orders'] : ['run', file]),
          '--customer',
          customer,
          '--amount',
          amount,
          '--region',
          region,
          '--json',
        ]);
        expect(r.code, r.stderr + r.stdout).toBe(0);
        const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
        if (before) {
          const waited = await cli([...globals(), 'wait', runId, '--timeout', '30s']);
          expect(waited.code, waited.stderr + waited.stdout).toBe(0);
        }
        ids[`${customer}/${amount}`] = runId;
      }
    }, 90_000);

    it('each run records its attributes: resolved from the input, typed, vip and stage set by the SET', async () => {
      const { rows, code } = await list('--where', 'customer=42', '--json');
      expect(code).toBe(0);
      expect(rows.map((r) => r.runId).sort()).toEqual([ids['42/420'], ids['42/99']].sort());
      expect(rows.find((r) => r.runId === ids['42/420'])!.search).toEqual({
        customer: '42',
        region: 'eu',
        amount: 420,
        placed: '2026-01-01T00:00:00.000Z',
        vip: true,
        stage: 'classified',
      });
    });

    it('--where compares numbers and times, repeats (all hold), and combines with the other filters', async () => {
      expect((await list('--where', 'amount>100', '--json')).rows.map((r) => r.runId)).toEqual([ids['42/420']]);
      expect(
        (await list('--where', 'customer=42', '--where', 'region!=eu', '--json')).rows.map((r) => r.runId),
      ).toEqual([ids['42/99']]);
      expect((await list('--where', 'placed<=2026-01-01', '--status', 'completed', '--json')).rows).toHaveLength(3);
      const text = await list('--where', 'amount<80');
      expect(text.stdout).toContain(ids['7/70']);
      expect(text.stdout).toMatch(/customer=7 +region=us|customer=7\s/);
    });

    it('a bad condition exits 2 naming it; a query matching nothing exits 0 and says so', async () => {
      const unknown = await list('--where', 'custmer=42');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(
        /where "custmer=42": no run has a search attribute "custmer"; runs have: amount, customer, placed, region, stage, vip/,
      );
      const bad = await list('--where', 'amount>lots');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('amount is a number attribute and "lots" is not a number');
      const form = await list('--where', 'amount');
      expect(form.code).toBe(2);
      expect(form.stderr).toContain('--where "amount" is not a condition');
      const none = await list('--where', 'customer=99');
      expect(none.code).toBe(0);
      expect(none.stdout.trim()).toBe('no runs match (0)');
      expect((await list('--where', 'customer=99', '--json')).stdout.trim()).toBe('[]');
    });

    it('reindex rebuilds them from the log', async () => {
      const r = await cli([...globals(), 'reindex']);
      expect(r.code, r.stderr).toBe(0);
      expect(
        (await list('--where', 'customer=42', '--where', 'amount>=99', '--json')).rows.map((x) => x.runId).sort(),
      ).toEqual([ids['42/420'], ids['42/99']].sort());
    });

    it('bulk actions take where= (several times): --dry-run counts the runs it matches', async () => {
      const r = await cli([
        ...globals(),
        'cancel',
        '--query',
        'workflow=orders where=customer=42 where=amount>=99',
        '--dry-run',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ matched: 2, would: [] });
      const bad = await cli([...globals(), 'cancel', '--query', 'where=nope=1', '--dry-run']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('no run has a search attribute "nope"');
    });

    if (!before) {
      describe('the HTTP API', () => {
        let ui: UiProcess;
        beforeAll(async () => {
          ui = await startUiProcess(globals(), [], { cwd: tempDir('lf-search-ui-') });
        }, 30_000);
        afterAll(async () => {
          await ui?.stop();
        });
        const get = async (q: string) => {
          const r = await fetch(`${ui.base}/api/runs?${q}`, { headers: { authorization: `Bearer ${ui.token}` } });
          return {
            status: r.status,
            body: (await r.json()) as { runs?: Row[]; total?: number; error?: { field: string; message: string } },
          };
        };
        it('GET /api/runs?where= filters as list does (repeated: all hold), 400 naming where for a bad one', async () => {
          expect((await get('where=customer%3D42')).body.total).toBe(2);
          expect((await get('where=customer%3D42&where=amount%3E100')).body.runs!.map((r) => r.runId)).toEqual([
            ids['42/420'],
          ]);
          expect((await get('where=customer%3D99')).body).toMatchObject({ runs: [], total: 0 });
          const bad = await get('where=amount%3Elots');
          expect(bad.status).toBe(400);
          expect(bad.body.error).toMatchObject({
            field: 'where',
            message: expect.stringContaining('amount is a number attribute'),
          });
        });
        it('POST /api/bulk/cancel takes where in its query (a list: every condition holds)', async () => {
          const r = await fetch(`${ui.base}/api/bulk/cancel`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ query: { where: ['customer=42', 'amount<100'] }, dryRun: true }),
          });
          expect(r.status).toBe(200);
          expect(await r.json()).toMatchObject({ action: 'cancel', matched: 1, would: [] });
        });
      });
    }
  });
}

let store = '';
suite('search attributes on the embedded store', () => {
  store ||= join(tempDir('lf-search-store-'), 'store');
  return ['--store', store];
});

describe.skipIf(noNats)('over NATS', () => {
  const c = useCluster({ engines: 1 });
  suite(
    'search attributes over a real nats-server (JetStream index)',
    () => ['--nats', c.url],
    async (file) => {
      const deployed = await cli(['--nats', c.url, 'deploy', file]);
      expect(deployed.code, deployed.stderr).toBe(0);
    },
  );
});
