/**
 * Concurrency limits on NATS as docs/limits.md#concurrency-limits-and-priority
 * and docs/nats.md tell a user: the doc's workflow (its first task a SIMPLE
 * task a handler runs) deployed, `ledgerflow engine --handlers` (or engines
 * and a `ledgerflow worker --handlers`), and `ledgerflow start` several times
 * while slots free up. Every run is admitted and every admitted run starts its
 * task and completes: an admission is appended outside the engine that holds
 * the queued run, and its kick must not be judged against that engine's stale
 * copy of the run. Real nats-server, real CLI processes.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { asUser } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'fixtures', 'nats-concurrency');
const HANDLERS = join(FIX, 'handlers.mjs');
const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function spawned(args: string[], env: Record<string, string>): () => string {
  const child = spawnCli(args, { env });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return () => out;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(noNats)('concurrency limits on NATS with handlers (CLI engines and workers)', () => {
  const c = useCluster();
  const lf = (...args: string[]) => cli(['--nats', c.url, ...args]);
  const start = async (...args: string[]) => {
    const r = await lf('start', ...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { runId: string; status: string };
  };
  /**
   * `ledgerflow wait` on every run, as docs/nats.md has a script do: one command per run that returns when it settles.
   * Within 25 s: before an engine's admission sweep (every 30 s) could kick a stranded run again, so a run admitted
   * and never kicked fails here instead of completing late.
   */
  const allCompleted = async (ids: string[], logs: () => string) => {
    const seen = await Promise.all(
      ids.map(async (id) => {
        const r = await lf('wait', id, '--timeout', '25s', '--json');
        return `${id} ${r.stdout.trim() ? (JSON.parse(r.stdout) as { status: string }).status : `exit ${r.code}: ${r.stderr}`}`;
      }),
    );
    expect(
      seen.every((l) => l.endsWith(' COMPLETED')),
      `${seen.join('\n')}\n${logs()}`,
    ).toBe(true);
  };
  const markers = (file: string) =>
    existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

  /**
   * Three starts at once for one customer, holding their slots until `release` appears (one of them is queued:
   * the limit is 2); then the slots free up while three more starts arrive. Every run must complete.
   */
  const burst = async (release: string, customers: string[]) => {
    const held = await Promise.all(
      customers.slice(0, 3).map(async (x) => start('invoice', '--customer', x, '--release', release)),
    );
    expect(held.filter((r) => r.status === 'QUEUED').length, JSON.stringify(held)).toBeGreaterThanOrEqual(1);
    writeFileSync(release, '');
    const more: string[] = [];
    for (const x of customers.slice(3)) {
      more.push((await start('invoice', '--customer', x)).runId);
      await pause(150);
    }
    return [...held.map((r) => r.runId), ...more];
  };

  it('limit 2, one engine running the handlers: queued starts and starts arriving while slots free up all complete, each task run once', async () => {
    const dir = tempDir();
    const env = { LF_MARKERS: join(dir, 'markers'), LF_WORK_MS: '1000' };
    expect((await lf('deploy', join(FIX, 'invoice.yaml'))).code).toBe(0);
    const logs = spawned(['--nats', c.url, 'engine', '--handlers', HANDLERS], env);
    const ids = await burst(join(dir, 'release'), ['acme', 'acme', 'acme', 'acme', 'acme', 'acme']);
    await allCompleted(ids, logs);
    expect(markers(env.LF_MARKERS)).toHaveLength(6);
    // Each run's log read here, not by six `history --json` commands (test/cli/nats-skills.test.ts runs that on NATS).
    for (const id of ids) {
      const history = await c.client.store.read(id);
      expect(
        history.filter((e) => e.type === 'task.started'),
        id,
      ).toHaveLength(1);
    }
  }, 120_000);

  it('limit 2, two engines and a worker process running the handlers: every queued run is admitted and completes', async () => {
    const dir = tempDir();
    const env = { LF_MARKERS: join(dir, 'markers'), LF_WORK_MS: '1000' };
    expect((await lf('deploy', join(FIX, 'invoice.yaml'))).code).toBe(0);
    const e1 = spawned(['--nats', c.url, 'engine'], env);
    const e2 = spawned(['--nats', c.url, 'engine'], env);
    const w = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', HANDLERS], env);
    const ids = await burst(join(dir, 'release'), ['globex', 'globex', 'globex', 'globex', 'initech', 'globex']);
    await allCompleted(ids, () => e1() + e2() + w());
    expect(markers(env.LF_MARKERS)).toHaveLength(6);
  }, 120_000);

  it('limit 1: a start with --priority 90 is admitted before the runs queued at 50, and starts its task', async () => {
    const dir = tempDir();
    const env = { LF_MARKERS: join(dir, 'markers') };
    expect((await lf('deploy', join(FIX, 'urgent.yaml'))).code).toBe(0);
    const logs = spawned(['--nats', c.url, 'engine', '--handlers', HANDLERS], env);
    // The holder works until both other starts are queued (its task ends when a file appears), then frees the slot.
    const release = join(dir, 'release');
    const first = await start('one-at-a-time', '--customer', 'first', '--release', release);
    const normal = await start('one-at-a-time', '--customer', 'normal');
    const urgent = await start('one-at-a-time', '--customer', 'urgent', '--priority', '90');
    expect([normal.status, urgent.status]).toEqual(['QUEUED', 'QUEUED']);
    writeFileSync(release, '');
    await allCompleted([first.runId, normal.runId, urgent.runId], logs);
    expect(markers(env.LF_MARKERS).map((l) => l.split(' ')[0])).toEqual(['first', 'urgent', 'normal']);
  }, 120_000);

  it('task concurrency 1 and a rate limit, an engine and a worker process: attempts of four runs wait their turn and every run completes', async () => {
    const dir = tempDir();
    const env = { LF_MARKERS: join(dir, 'markers'), LF_WORK_MS: '600' };
    expect((await lf('deploy', join(FIX, 'sync-contacts.yaml'))).code).toBe(0);
    const e = spawned(['--nats', c.url, 'engine', '--handlers', HANDLERS], env);
    const w = spawned(['--nats', asUser(c.url, 'worker'), 'worker', '--handlers', HANDLERS], env);
    const ids = await Promise.all(
      ['a', 'b', 'c', 'd'].map(async (x) => (await start('sync_contacts', '--customer', x)).runId),
    );
    await allCompleted(ids, () => e() + w());
    expect(markers(env.LF_MARKERS)).toHaveLength(4);
  }, 120_000);
});
