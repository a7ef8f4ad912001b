/**
 * `/metrics` of a freshly started process: a run already waiting
 * on an approval when `serve --metrics-port` or `engine --metrics-port`
 * starts is in the approvals-waiting and timers-pending gauges at once, not
 * from its next commit; and the process and Node.js metrics of prom-client's
 * default collectors are there. Every scrape is read with a strict parser of
 * the text format.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { parsePromText, sampleValue, type PromSample } from '../helpers/prom-text.js';
import { waitFor } from '../helpers/wait.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
const T = 30_000;
const WF = { workflow: 'approval' };

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

async function withMetrics(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawnCli(args, { env: { LF_MARKERS: join(tempDir(), 'markers') } });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await waitFor(
    'the metrics URL',
    () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return /metrics at (http:\/\/\S+)/.exec(out)?.[1];
    },
    { timeout: T, detail: () => out },
  );
  return { child, url, output: () => out };
}

async function scrape(url: string): Promise<PromSample[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return parsePromText(await res.text());
}

/** What every ledgerflow /metrics carries besides its own: prom-client's default collectors. */
function expectProcessMetrics(samples: PromSample[]): void {
  expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  expect(sampleValue(samples, 'process_start_time_seconds')).toBeGreaterThan(0);
  expect(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes')).toBe(true);
  expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await waitFor('the process to exit', () => child.exitCode !== null, { timeout: T });
  expect(child.exitCode).toBe(0);
}

describe('a run already waiting when the process starts is in the gauges at once', () => {
  it('serve --metrics-port on the embedded store: approvals waiting 1, timers pending 1 (its 1h deadline), process metrics present, valid text', async () => {
    const store = tempDir();
    // The documented way to leave a run waiting: `run` drives it until it waits for a person (exit 3).
    const ran = await cli(['--store', store, 'run', APPROVAL, '--json'], {
      env: { LF_MARKERS: join(tempDir(), 'markers') },
    });
    expect(ran.code, ran.stderr).toBe(3);
    const s = await withMetrics(['--store', store, 'serve', '--metrics-port', '0', '--no-schedules']);
    const samples = await waitFor(
      'the waiting run in the gauges',
      async () => {
        const got = await scrape(s.url);
        return sampleValue(got, 'ledgerflow_approvals_waiting', WF) === 1 ? got : null;
      },
      { timeout: T, detail: s.output },
    );
    expect(sampleValue(samples, 'ledgerflow_timers_pending', WF)).toBe(1);
    expectProcessMetrics(samples);
    await stop(s.child);
  }, 60_000);
});

describe.skipIf(noNats)('a run already waiting when an engine starts is in its gauges at once (NATS)', () => {
  const c = useCluster();

  it('engine --metrics-port: approvals waiting 1, timers pending 1, process metrics present, valid text', async () => {
    // An engine and a worker take the run to its approval, then stop: the run waits with no engine running.
    const first = await c.addEngine({ schedules: false });
    const worker = await c.addWorker({ nats: c.url, handlers: (await import(HANDLERS)).default });
    await c.client.deploy(loadDefinitionFile(APPROVAL).definition);
    const { runId } = await c.client.start('approval', {});
    expect((await c.runs.wait(runId, { timeoutMs: T, orWaiting: true })).status).toBe('WAITING');
    // The run index (the engine's projection) has it WAITING before that engine stops.
    await waitFor(
      'the run index to list it waiting',
      async () => (await cli(['--nats', c.url, 'list', '--status', 'WAITING', '--json'])).stdout.includes(runId),
      { timeout: T },
    );
    await c.stopWorker(worker);
    await c.stopEngine(first);
    const e = await withMetrics(['--nats', c.url, 'engine', '--metrics-port', '0', '--no-schedules']);
    const samples = await waitFor(
      'the waiting run in the gauges',
      async () => {
        const got = await scrape(e.url);
        return sampleValue(got, 'ledgerflow_approvals_waiting', WF) === 1 ? got : null;
      },
      { timeout: T, detail: e.output },
    );
    expect(sampleValue(samples, 'ledgerflow_timers_pending', WF)).toBe(1);
    expect(samples.some((s) => s.name === 'ledgerflow_queue_backlog')).toBe(true);
    expectProcessMetrics(samples);
    await stop(e.child);
  }, 90_000);
});
