/** What the file agent tests share: a project as docs/agents.md sets one up, its folders, its run's events. */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileEventStore } from '../../src/store/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { expect } from 'vitest';
import { ROOT, cli, spawnCli, tempDir } from './cli.js';
import { waitFor } from './wait.js';

/** The fenced blocks of docs/agents.md of a language, in order: the tests use what the docs show, not a copy. */
export function docBlocks(lang: string): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'agents.md'), 'utf8');
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

const projects: string[] = [];

/** Every run in the projects made here, replayed: each must reach the state it recorded. Returns how many. */
export async function everyAgentRunReplays(): Promise<number> {
  const { replayRun } = await import('../../src/runtime/index.js');
  let checked = 0;
  for (const dir of projects.splice(0)) {
    const store = new FileEventStore(join(dir, '.ledgerflow'));
    for (const run of await store.listRuns()) {
      const report = replayRun(await store.read(run.runId));
      if (report.divergence)
        throw new Error(`run ${run.runId} in ${dir} diverges: ${JSON.stringify(report.divergence)}`);
      checked++;
    }
  }
  return checked;
}

/** A project folder with the docs' workflow (its YAML changed by `edit`) and the docs' shell agent. */
export function agentProject(edit: (yaml: string) => string = (y) => y): string {
  const dir = tempDir('lf-agent-');
  projects.push(dir);
  writeFileSync(join(dir, 'inventory-check.yaml'), edit(docBlocks('yaml')[0]!));
  const script = docBlocks('sh').find((b) => b.includes('1N.3OX/task-*.yaml'))!;
  writeFileSync(join(dir, 'agent.sh'), script);
  mkdirSync(join(dir, 'data'));
  for (const n of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(dir, 'data', n), n);
  return dir;
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Every process spawnIn started: a test that fails half-way leaves no agent polling for ever (stopSpawned). */
const spawned = new Set<Proc['child']>();

/** Kills what spawnIn started and is still running; for afterEach. */
export async function stopSpawned(): Promise<void> {
  await Promise.all(
    [...spawned].map(async (c) => {
      spawned.delete(c);
      if (c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once('close', r));
      c.kill('SIGKILL');
      await gone;
    }),
  );
}

export function spawnIn(dir: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawnCli(args, { cwd: dir, env });
  spawned.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, output: () => out, exited };
}

export const files = (dir: string, sub: string): string[] =>
  existsSync(join(dir, sub))
    ? readdirSync(join(dir, sub))
        .filter((n) => !n.startsWith('.'))
        .sort()
    : [];

export function taskFile(dir: string): { name: string; token: string; attempt: number; runId: string } | null {
  const name = files(dir, '1N.3OX').find((n) => n.startsWith('task-'));
  if (!name) return null;
  let text: string;
  try {
    text = readFileSync(join(dir, '1N.3OX', name), 'utf8');
  } catch (err) {
    // Listed, then moved by the agent (to done/ or rejected/) before it was read: there is none now.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const token = /^ {2}token: (\S+)$/m.exec(text)?.[1];
  const attempt = Number(/^ {2}attempt: (\d+)$/m.exec(text)?.[1]);
  const runId = /^ {2}workflow_id: (\S+)$/m.exec(text)?.[1];
  return token && runId ? { name, token, attempt, runId } : null;
}

/**
 * Answers whichever attempt's task file is in the inbox until `ended()`: on a loaded machine a short
 * timeout may pass again before an answer lands, and the next attempt's file then has another token.
 */
export async function answerUntil(
  dir: string,
  ended: () => boolean,
  output = '{ files: 3 }',
  detail?: () => string,
): Promise<void> {
  const answered = new Set<string>();
  await waitFor(
    'the run to end with an attempt answered',
    () => {
      if (ended()) return true;
      const t = taskFile(dir);
      if (t && !answered.has(t.token)) {
        answered.add(t.token);
        writeResult(dir, t.name.slice('task-'.length), `token: ${t.token}\nstatus: completed\noutput: ${output}\n`);
      }
      return false;
    },
    { timeout: 60_000, ...(detail ? { detail } : {}) },
  );
}

/** Writes a result as an agent should: under a dot-name, renamed into place. */
export function writeResult(dir: string, stem: string, text: string): void {
  const tmp = join(dir, '0UT.3OX', `.${stem}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, '0UT.3OX', `result-${stem}`));
}

export async function events(dir: string, runId: string): Promise<EventEnvelope[]> {
  return new FileEventStore(join(dir, '.ledgerflow')).read(runId);
}

export const outcomes = (evs: EventEnvelope[]) =>
  evs.filter((e) => e.type === 'task.completed' || e.type === 'task.failed');

/** Starts the agent as the docs do, and waits until it has declared its queue. */
export async function startAgent(dir: string, extra: string[] = []): Promise<Proc> {
  const agent = spawnIn(dir, [
    'agent',
    '--inbox',
    '1N.3OX',
    '--outbox',
    '0UT.3OX',
    '--queue',
    'agents',
    '--level',
    'L3',
    ...extra,
  ]);
  await waitFor(
    'the agent to declare its queue',
    () => existsSync(join(dir, '.ledgerflow', 'gates', 'agent-queues.json')),
    { timeout: 20_000, detail: agent.output },
  );
  return agent;
}

export async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exited;
}

/** One pass of the docs' agent (`ledgerflow agent … --once --json`), which must exit 0: what it wrote, recorded and rejected. */
export async function agentOnce(dir: string, extra: string[] = []) {
  const r = await cli(
    ['agent', '--inbox', '1N.3OX', '--outbox', '0UT.3OX', '--queue', 'agents', '--once', '--json', ...extra],
    { cwd: dir },
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { written: string[]; recorded: string[]; rejected: string[] };
}

/** The docs' run started, and its task file once an agent pass (`--once`) has written it. */
export async function runToItsTaskFile(dir: string) {
  const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
  const task = await waitFor(
    'the task file',
    async () => {
      await agentOnce(dir);
      return taskFile(dir);
    },
    { timeout: 20_000, detail: run.output },
  );
  return { run, task };
}
