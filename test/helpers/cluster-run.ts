/**
 * What the 3-node cluster test (test/cluster/three-nodes.test.ts) and the
 * chaos script (scripts/chaos.ts) share: engines and workers as OS processes
 * of the built CLI, the markers the fixture handlers write (one line per
 * handler start / end: task, attempt, idempotency key, pid, time), and the
 * checks of an outcome: a run's log has no fork, no attempt was executed
 * twice. The checks return the problems found (empty: none) rather than
 * asserting, so that the script can count them where the test fails on them.
 * No vitest here: the script runs outside it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanos } from '@nats-io/nats-core';
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { STREAMS } from '../../src/cluster/index.js';
import { ensureWorkerConsumer, type ClusterSettings } from '../../src/cluster/transport/setup.js';
import { ENGINE_CONSUMERS } from '../../src/cluster/transport/subjects.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { BIN, nodeFlagsFor, ROOT } from './cli.js';
import { waitFor } from './wait.js';

export const HANDLERS = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
/** Five tasks, two slow ones in parallel then a third (test/fixtures/cluster.yaml). */
export const CHAOS_WORKFLOW = join(ROOT, 'test', 'fixtures', 'cluster.yaml');
export const CHAOS_TASKS = ['first', 'slow_a', 'slow_b', 'slow_c', 'last'];

export interface Marker {
  task: string;
  attempt: number;
  key: string;
  runId: string;
  what: 'start' | 'end' | 'fail';
  pid: number;
  at: number;
}

export function readMarkers(file: string): Marker[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [task, attempt, key, what, pid, at] = line.split(' ');
      return {
        task: task!,
        attempt: Number(attempt),
        key: key!,
        runId: key!.split('/')[0]!,
        what: what as Marker['what'],
        pid: Number(pid),
        at: Number(at),
      };
    });
}

export interface LedgerflowProcess {
  name: string;
  pid: number;
  alive(): boolean;
  output(): string;
  /** Resolves once it says it takes work (`engine <pid> …` / `worker <pid> …`); rejects if it exits first or after `timeoutMs`. */
  started(timeoutMs?: number): Promise<void>;
  /** Sends the signal (SIGKILL by default) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `ledgerflow <args>` (the built bin) in `cwd`, its handlers writing markers to `markers`. */
export function spawnLedgerflow(
  name: string,
  args: string[],
  opts: { cwd: string; markers: string; env?: Record<string, string> },
): LedgerflowProcess {
  const child = spawn(process.execPath, [...nodeFlagsFor(args), BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', LF_MARKERS: opts.markers, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    if (out.length < 200_000) out += d;
  });
  child.stderr!.on('data', (d) => {
    if (out.length < 200_000) out += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid!,
    alive,
    output: () => out,
    started: async (timeoutMs = 30_000) => {
      await waitFor(
        `${name} to start`,
        () => {
          if (!alive())
            throw new Error(`${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${out}`);
          return /^(engine|worker|agent) \d+ /m.test(out);
        },
        { timeout: timeoutMs, detail: () => out },
      );
    },
    kill: async (signal = 'SIGKILL') => {
      if (alive()) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Forks and doubles in one run's log: seqs not exactly 1..n, events of
 * another run, more than one run.started, the same attempt started,
 * completed or failed twice, a task completed twice, the run settled twice,
 * or a replay that does not reach the recorded states.
 */
export function historyProblems(events: EventEnvelope[]): string[] {
  if (events.length === 0) return [];
  const runId = events[0]!.runId;
  const problems: string[] = [];
  const seqs = events.map((e) => e.seq);
  if (seqs.some((s, i) => s !== i + 1)) problems.push(`${runId}: seqs are not 1..${events.length} (${seqs.join(',')})`);
  if (events.some((e) => e.runId !== runId)) problems.push(`${runId}: events of another run in its log`);
  if (events.filter((e) => e.type === 'run.started').length !== 1)
    problems.push(`${runId}: ${events.filter((e) => e.type === 'run.started').length} run.started events`);
  const seen = new Set<string>();
  const completedTasks = new Set<string>();
  for (const e of events) {
    if (e.type !== 'task.started' && e.type !== 'task.completed' && e.type !== 'task.failed') continue;
    const data = e.data as { task: string; attempt: number };
    const key = `${e.type} ${data.task}/${data.attempt}`;
    if (seen.has(key)) problems.push(`${runId}: ${key} recorded twice`);
    seen.add(key);
    if (e.type === 'task.completed') {
      if (completedTasks.has(data.task)) problems.push(`${runId}: ${data.task} completed twice`);
      completedTasks.add(data.task);
    }
  }
  const settles = events.filter(
    (e, i) =>
      ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.state.status) &&
      (i === 0 || events[i - 1]!.state.status !== e.state.status),
  );
  if (settles.length > 1)
    problems.push(
      `${runId}: settled ${settles.length} times (${settles.map((e) => `${e.seq}:${e.state.status}`).join(', ')})`,
    );
  const divergence = replayRun(events).divergence;
  if (divergence) problems.push(`${runId}: replay diverges at ${JSON.stringify(divergence).slice(0, 200)}`);
  return problems;
}

/**
 * Attempts executed twice: a (run, task, attempt) whose handler started again
 * while a process that had started it before was still alive, or that ended
 * (succeeded) more than once. An attempt whose process was killed before it
 * ended may run again (that is a lost worker's attempt, re-run); `killedAt`
 * says when each killed pid died (ms since the epoch).
 */
export function duplicateExecutions(markers: Marker[], killedAt: ReadonlyMap<number, number> = new Map()): string[] {
  const byKey = new Map<string, Marker[]>();
  for (const m of markers) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m]);
  const out: string[] = [];
  for (const [key, ms] of byKey) {
    const ends = ms.filter((m) => m.what === 'end');
    if (ends.length > 1) {
      out.push(`${key} ended ${ends.length} times (pids ${ends.map((m) => m.pid).join(', ')})`);
      continue;
    }
    const starts = ms.filter((m) => m.what === 'start').sort((a, b) => a.at - b.at);
    for (let i = 1; i < starts.length; i++) {
      const overlapping = starts.slice(0, i).filter((s) => {
        const died = killedAt.get(s.pid);
        const finished = ms.some((m) => m.pid === s.pid && m.what !== 'start' && m.at >= s.at);
        return finished || died === undefined || died > starts[i]!.at;
      });
      if (overlapping.length > 0) {
        out.push(
          `${key} started by ${starts.map((s) => s.pid).join(', ')} while ${overlapping.map((s) => s.pid).join(', ')} ran or had run it`,
        );
        break;
      }
    }
  }
  return out;
}

/**
 * What a killed process or node held (an ack on its way to a consumer leader
 * that died, an attempt a dead worker had fetched) comes back after the
 * consumer's ack wait, 30 s by default for the engines' consumers: make every
 * engine consumer and the worker consumers of `handlers` wait `ms`, as an
 * operator may, so that it comes back within a test or a chaos run. Workers
 * must be started with `--ack-wait` to match. The worker consumers are made
 * here, before any engine hands out an attempt, and so is their queue's
 * stream LF_TASKS_default: give `settings` the engines' replicas and storage.
 */
export async function shortenAckWaits(
  jsm: JetStreamManager,
  handlers: string[],
  ms = 2000,
  settings: ClusterSettings = {},
): Promise<void> {
  for (const [kind, durable] of Object.entries(ENGINE_CONSUMERS)) {
    await jsm.consumers.update(STREAMS[kind as keyof typeof ENGINE_CONSUMERS].name, durable, { ack_wait: nanos(ms) });
  }
  for (const handler of handlers)
    await ensureWorkerConsumer(jsm, 'default', handler, { ...settings, taskAckWaitMs: ms });
}

/** Every LF_EVENTS message on a run's subject, by stream sequence, straight from the stream (message get by subject). */
export async function rawMessages(jsm: JetStreamManager, runId: string): Promise<string> {
  const lines: string[] = [];
  const subject = `lf.events.*.${runId}`;
  for (let seq = 1; lines.length < 500; ) {
    let m;
    try {
      m = await within(
        jsm.streams.getMessage('LF_EVENTS', { next_by_subj: subject, seq } as unknown as MsgRequest),
        10_000,
        'get message',
      );
    } catch (err) {
      if (String(err).includes('no message found')) break;
      throw err;
    }
    if (!m) break; // none after seq
    lines.push(
      `stream seq ${m.seq} at ${m.time.toISOString()} ${m.subject} Lf-First-Seq ${m.header?.get('Lf-First-Seq')} Lf-Last-Seq ${m.header?.get('Lf-Last-Seq')} Nats-Msg-Id ${m.header?.get('Nats-Msg-Id')}\n  ${new TextDecoder().decode(m.data).slice(0, 4000)}`,
    );
    seq = m.seq + 1;
  }
  return lines.join('\n');
}

/** `p`, or a rejection after `ms` (a read stalled on a lost node must not stall the whole script). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
