/**
 * docs/operations.md "Bulk actions", run verbatim: the page's definitions
 * written to a folder, two runs of each, then every `$ ledgerflow …` line of
 * its console block run in order and its output compared with the page's
 * (run ids stand for any run id). Then the same commands over NATS (a
 * nats-server of the test's own, an engine and a worker), each with --json: the same
 * counts as on the embedded store.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
const SECTION = PAGE.slice(
  PAGE.indexOf('## Bulk actions'),
  PAGE.indexOf('\n## ', PAGE.indexOf('## Bulk actions') + 1) >>> 0 || undefined,
);
const FILES = [...SECTION.matchAll(/```yaml\n# definitions\/(\S+)\n([\s\S]*?)```/g)].map((m) => ({
  name: m[1]!,
  text: m[2]!,
}));
const CONSOLE = /```console\n([\s\S]*?)```/.exec(SECTION)![1]!;

/** The console block as [command words, expected lines]. */
function steps(): Array<{ line: string; args: string[]; out: string[] }> {
  const out: Array<{ line: string; args: string[]; out: string[] }> = [];
  for (const line of CONSOLE.trimEnd().split('\n')) {
    if (line.startsWith('$ ledgerflow ')) out.push({ line, args: words(line.slice('$ ledgerflow '.length)), out: [] });
    else out.at(-1)!.out.push(line);
  }
  return out;
}

/** A shell line's words: single and double quotes, no expansion. */
function words(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Run ids stand for any run id. */
const anyId = (text: string) => text.replace(/\d{8}-\d{6}-[0-9a-z]{13}/g, '<id>');

describe('docs/operations.md "Bulk actions", on the embedded store', () => {
  it('runs every command of the page and prints what the page shows', async () => {
    expect(FILES.map((f) => f.name)).toEqual(['orders.yaml', 'billing.yaml']);
    const dir = tempDir('lf-ops-bulk-');
    mkdirSync(join(dir, 'definitions'));
    for (const f of FILES) writeFileSync(join(dir, 'definitions', f.name), f.text);
    const env = { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } };
    for (let i = 0; i < 2; i++) {
      for (const f of FILES) await cli(['run', `definitions/${f.name}`], env);
    }
    for (const s of steps()) {
      const r = await cli(s.args, env);
      expect(r.code, `${s.line}\n${r.stderr}`).toBe(0);
      expect(anyId(r.stdout.trimEnd()), s.line).toBe(anyId(s.out.join('\n')));
    }
  }, 120_000);
});

describe.skipIf(noNats)('docs/operations.md "Bulk actions", over NATS', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it('the same commands with --json: the same counts, the engines move the runs on', async () => {
    const dir = tempDir('lf-ops-bulk-nats-');
    const suffix = Date.now().toString(36);
    const rename = (text: string) =>
      text.replace(/id: (orders|billing)\n/, (_m, id: string) => `id: ${id}-${suffix}\n`);
    for (const f of FILES) {
      writeFileSync(join(dir, f.name), rename(f.text));
      expect((await cli(['--nats', c.url, 'deploy', join(dir, f.name)])).code).toBe(0);
    }
    // The engines, and a worker that runs COMMAND tasks (billing's charge fails).
    procs.push(spawnCli(['--nats', c.url, 'engine']), spawnCli(['--nats', c.url, 'worker', '--commands']));
    for (let i = 0; i < 2; i++) {
      for (const wf of ['orders', 'billing']) {
        const id = JSON.parse((await cli(['--nats', c.url, 'start', `${wf}-${suffix}`, '--json'])).stdout)
          .runId as string;
        const w = await cli(['--nats', c.url, 'wait', id, '--or-waiting', '--timeout', '30s', '--json']);
        expect(JSON.parse(w.stdout).status, w.stderr).toBe(wf === 'orders' ? 'WAITING' : 'FAILED');
      }
    }
    const counts: Record<string, unknown>[] = [];
    const answers: Record<string, unknown>[] = [];
    for (const s of steps()) {
      const args = s.args.map((a) => a.replace(/workflow=(orders|billing)\b/, `workflow=$1-${suffix}`));
      // The index follows the engines' commits: let it catch up with the step before.
      await new Promise((r) => setTimeout(r, 1500));
      const r = await cli(['--nats', c.url, ...args.filter((a) => a !== '--json'), '--json']);
      expect(r.code, `${s.line}\n${r.stderr}`).toBe(0);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      answers.push(j);
      counts.push(
        Object.fromEntries(
          Object.entries(j).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.length : typeof v === 'object' ? Object.keys(v as object).length : v,
          ]),
        ),
      );
    }
    expect(counts).toEqual([
      { action: 'pause', matched: 2, would: 2, already: 0 },
      { action: 'pause', matched: 2, paused: 2, already: 0, refused: 0 },
      { action: 'resume', matched: 2, resumed: 2, already: 0, refused: 0 },
      { action: 'approve', matched: 2, approved: 2, already: 0, refused: 0 },
      { action: 'retry', matched: 2, retried: 2, already: 0, refused: 0, started: 2 },
      expect.anything(), // below: the engines drove the retry runs, which fail too and match status=FAILED now
      { action: 'cancel', matched: 0, cancelled: 0, already: 0, refused: 0 },
    ]);
    // Again: the two failed runs that have a retry run are counted as already; only a retry run that failed since is retried.
    const first = answers[4]!.started as Array<{ runId: string; retryOf: string }>;
    const again = answers[5]!;
    expect(again.already).toEqual(expect.arrayContaining(first.map((x) => x.retryOf)));
    expect((again.retried as string[]).filter((id) => first.some((x) => x.retryOf === id))).toEqual([]);
    expect((again.retried as string[]).every((id) => first.some((x) => x.runId === id))).toBe(true);
  }, 180_000);
});
