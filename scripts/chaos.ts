/**
 * `npm run chaos`: a 3-node JetStream cluster (every stream and bucket R3),
 * engines and workers as OS processes of the built CLI, runs started
 * continuously, and at seeded random moments an engine, a worker or a node
 * SIGKILLed and started again a little later (never two nodes down: three
 * nodes tolerate one). Then the kills stop, every run is given a bounded time
 * to settle, and the outcome is judged from the logs and from the markers the
 * fixture handlers write, never from what the engines say:
 *
 * - lost: a run the client got an id for whose log is gone or shorter than a
 *   read of it during the chaos (snapshots of every read are kept);
 * - forks: cluster-run.ts's history checks (seq gaps, an attempt recorded
 *   twice, a run settled twice, a replay that does not match), and a log
 *   whose prefix differs from an earlier read;
 * - duplicate executions: handler starts of an attempt beyond one plus the
 *   restarts the log records for it (task.restarted: an attempt lost with its
 *   worker runs again, by design);
 * - stuck: not settled when the settle time is up;
 * - forged: an event carrying what the hostile workers forged (test/helpers/hostile-worker.ts:
 *   `worker` users beside the honest ones, attacking the ledger, inputs, dead letters and queues);
 * - operations: an operator's bulk retries and schedule pauses during the kills (scripts/chaos-ops.ts): a failed
 *   run without its one retry run, a retry outside the filter, a slot fired while its schedule was paused.
 *
 * Exit 0 when all four are zero, 1 otherwise, 2 on bad flags. Not part of
 * `npm test` (it takes minutes); it reuses the test helpers (test/helpers/)
 * that the 3-node test uses, so the two judge a run the same way.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ClusterClient } from '../src/cluster/index.js';
import { jetstreamManager } from '../src/store/index.js';
import { inspectCluster } from '../src/cluster/admin/doctor.js';
import type { EventEnvelope } from '../src/events/index.js';
import { SETTLED_STATUSES } from '../src/events/index.js';
import { prng } from '../test/compiler/random-events.js';
import { cli } from '../test/helpers/cli.js';
import {
  CHAOS_TASKS,
  CHAOS_WORKFLOW,
  HANDLERS,
  historyProblems,
  rawMessages,
  readMarkers,
  within,
  shortenAckWaits,
  spawnLedgerflow,
  type LedgerflowProcess,
} from '../test/helpers/cluster-run.js';
import {
  forgedRecords,
  refusalFlood,
  startHostileApprover,
  startHostileWorker,
  type HostileWorker,
} from '../test/helpers/hostile-worker.js';
import { natsServerBin, startNatsCluster, type NatsCluster, type NatsNode } from '../test/helpers/nats.js';
import { startRogueRoute } from '../test/helpers/rogue-route.js';
import { ChaosOperator, FAILING_WORKFLOW } from './chaos-ops.js';

const USAGE = `usage: npm run chaos -- [--minutes 3] [--runs-per-minute 30] [--seed <n>] [--settle-minutes 3] [--engines 2] [--workers 2] [--agents 1] [--hostile 1] [--json]`;

/** The file agents' workflow: one task on queue agents, answered through 1N.3OX/0UT.3OX (docs/agents.md). */
const AGENT_WORKFLOW = `workflow:
  id: chaos-agent
  version: 1
  tasks:
    - id: step
      type: SIMPLE
      handler: file_step
      queue: agents
      timeout: 20s
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 200ms }
`;

const Options = z.object({
  minutes: z.coerce.number().positive().max(600),
  runsPerMinute: z.coerce.number().int().positive().max(1200),
  seed: z.coerce
    .number()
    .int()
    .nonnegative()
    .max(2 ** 31),
  settleMinutes: z.coerce.number().positive().max(60),
  engines: z.coerce.number().int().min(1).max(5),
  workers: z.coerce.number().int().min(1).max(5),
  hostile: z.coerce.number().int().min(0).max(3),
  agents: z.coerce.number().int().min(0).max(3),
  json: z.boolean(),
});
type Options = z.infer<typeof Options>;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      minutes: { type: 'string', default: '3' },
      'runs-per-minute': { type: 'string', default: '30' },
      seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
      'settle-minutes': { type: 'string', default: '3' },
      engines: { type: 'string', default: '2' },
      workers: { type: 'string', default: '2' },
      hostile: { type: 'string', default: '1' },
      agents: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const parsed = Options.safeParse({
    minutes: values.minutes,
    runsPerMinute: values['runs-per-minute'],
    seed: values.seed,
    settleMinutes: values['settle-minutes'],
    engines: values.engines,
    workers: values.workers,
    hostile: values.hostile,
    agents: values.agents,
    json: values.json,
  });
  if (!parsed.success)
    throw new Error(
      parsed.error.issues
        .map((i) => `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`)
        .join('\n'),
    );
  return parsed.data;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Kind = 'engine' | 'worker' | 'agent' | 'node';
type ProcKind = Exclude<Kind, 'node'>;
interface Kill {
  kind: Kind;
  target: string;
  at: number;
  downMs: number;
}

/** What the script read of one run: the longest log seen (as one digest per event) and when it was read. */
interface Seen {
  digests: string[];
  at: number;
}

const digest = (e: EventEnvelope) => JSON.stringify(e);

async function main(opts: Options): Promise<number> {
  const t0 = Date.now();
  const rng = prng(opts.seed); // seeded: a seed replays the same schedule of kills and inputs
  const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo));
  const say = (s: string) => {
    if (!opts.json) process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
  };
  if (!natsServerBin())
    throw new Error('nats-server not found (install the nats-server package or set NATS_SERVER_BIN)');

  const R3 = { LEDGERFLOW_NATS_REPLICAS: '3' };
  const dir = mkdtempSync(join(tmpdir(), 'lf-chaos-'));
  const markers = join(dir, 'markers');
  const cluster: NatsCluster = await startNatsCluster(3);
  // Reads make an R1 ephemeral consumer that nats-server 2.9 may place on a dead node: a short request timeout retries sooner.
  const client = new ClusterClient(cluster.url, {
    store: { replicas: 3, requestTimeoutMs: 1000 },
    cluster: { replicas: 3 },
  });
  const every: LedgerflowProcess[] = [];
  const cleanup = async () => {
    await Promise.all(every.map((p) => p.kill()));
    await client.close().catch(() => undefined);
    await cluster.dispose();
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    say(`seed ${opts.seed}: 3 nodes up, temp dir ${dir}`);
    const deployed = await cli(['--nats', cluster.url, 'deploy', CHAOS_WORKFLOW], { cwd: dir, env: R3 });
    if (deployed.code !== 0) throw new Error(`deploy failed (${deployed.code}): ${deployed.stderr}`);
    // Every third run is one whose only task a file agent does (docs/agents.md), killed and restarted as workers are.
    writeFileSync(join(dir, 'chaos-agent.yaml'), AGENT_WORKFLOW);
    if (opts.agents > 0) {
      const agentDeployed = await cli(['--nats', cluster.url, 'deploy', join(dir, 'chaos-agent.yaml')], {
        cwd: dir,
        env: R3,
      });
      if (agentDeployed.code !== 0)
        throw new Error(`deploy of the agent workflow failed (${agentDeployed.code}): ${agentDeployed.stderr}`);
    }
    const operator = new ChaosOperator({ url: cluster.url, dir, env: R3, between, say });
    await operator.deploy();
    const jsm = await jetstreamManager(await client.store.connection());
    await shortenAckWaits(jsm, ['first', 'slow', 'last'], 2000, { replicas: 3 });
    // A breaker on the slow steps' handler (docs/limits.md#circuit-breakers): lost workers' attempts count as its
    // failures and may open it, and an operator opens and closes it during the chaos (breakerFlipper below).
    writeFileSync(
      join(dir, 'limits.yaml'),
      'handlers:\n  slow:\n    breaker: { failures: 20, window: 30s, open_for: 5s }\n',
    );
    const limits = await cli(['--nats', cluster.url, 'limits', 'set', join(dir, 'limits.yaml')], { cwd: dir, env: R3 });
    if (limits.code !== 0) throw new Error(`limits set failed (${limits.code}): ${limits.stderr}`);

    // One slot per engine and worker; a kill replaces its process with a new incarnation.
    const slots = new Map<string, { kind: ProcKind; proc: LedgerflowProcess | null }>();
    const argsOf = (kind: ProcKind) =>
      kind === 'engine'
        ? ['--nats', cluster.url, 'engine']
        : kind === 'agent'
          ? // A file agent (docs/agents.md): its attempts are task files in 1N.3OX, answered by the responder below.
            [
              '--nats',
              cluster.url,
              'agent',
              '--inbox',
              join(dir, '1N.3OX'),
              '--outbox',
              join(dir, '0UT.3OX'),
              '--queue',
              'agents',
              '--handler',
              'file_step',
              '--poll',
              '100ms',
            ]
          : ['--nats', cluster.as('worker'), 'worker', '--handlers', HANDLERS, '--ack-wait', '2s'];
    const launch = async (name: string, kind: ProcKind) => {
      // A process started while a node is down may take a while: retry until it says it takes work.
      for (let attempt = 1; ; attempt++) {
        const p = spawnLedgerflow(name, argsOf(kind), { cwd: dir, markers, env: R3 });
        every.push(p);
        try {
          await p.started(60_000);
          slots.set(name, { kind, proc: p });
          return;
        } catch (err) {
          await p.kill();
          if (attempt >= 3) throw err;
        }
      }
    };
    const names = [
      ...Array.from({ length: opts.engines }, (_, i) => ({ name: `engine-${i + 1}`, kind: 'engine' as const })),
      ...Array.from({ length: opts.workers }, (_, i) => ({ name: `worker-${i + 1}`, kind: 'worker' as const })),
      ...Array.from({ length: opts.agents }, (_, i) => ({ name: `agent-${i + 1}`, kind: 'agent' as const })),
    ];
    await Promise.all(names.map((n) => launch(n.name, n.kind)));
    say(`${opts.engines} engines and ${opts.workers} workers up; chaos for ${opts.minutes} min`);
    const hostiles: HostileWorker[] = [];

    const chaosEnd = Date.now() + opts.minutes * 60_000;
    const runIds: string[] = [];
    const startErrors: string[] = [];
    const seen = new Map<string, Seen>();
    const settled = new Set<string>();
    const shrunk: string[] = [];
    const rewritten: string[] = [];
    const kills: Kill[] = [];
    const pending = new Set<Promise<unknown>>();
    const track = <T>(p: Promise<T>) => {
      pending.add(p);
      void p.finally(() => pending.delete(p)).catch(() => undefined);
      return p;
    };
    // Hostile workers (each round also wipes claims and floods its dead-letter subject), a person flooding decisions, and a stranger's server at the route ports.
    for (let i = 0; i < opts.hostile; i++)
      hostiles.push(
        await startHostileWorker({
          url: cluster.as('worker'),
          targets: () => runIds,
          tasks: CHAOS_TASKS,
          queues: ['vault'],
          everyMs: 500,
          floodLetters: 500,
        }),
      );
    const approver =
      opts.hostile > 0
        ? await startHostileApprover({
            url: cluster.as('alice'),
            user: 'alice',
            targets: () => runIds,
            tasks: CHAOS_TASKS,
          })
        : null;
    const rogue = opts.hostile > 0 ? await startRogueRoute(cluster, dir) : null;

    /** Reads a run's log and compares it with the longest read before: shorter is a loss, a different prefix a fork. */
    const observe = async (runId: string): Promise<EventEnvelope[]> => {
      const events = await within(client.store.read(runId), 30_000, `read ${runId}`);
      const now = events.map(digest);
      const before = seen.get(runId);
      if (before) {
        if (now.length < before.digests.length)
          shrunk.push(
            `${runId}: read ${now.length} events at +${((Date.now() - t0) / 1000).toFixed(1)} s, ${before.digests.length} at +${((before.at - t0) / 1000).toFixed(1)} s`,
          );
        const diff = now.findIndex((d, i) => i < before.digests.length && d !== before.digests[i]);
        if (diff >= 0)
          rewritten.push(
            `${runId}: event ${diff + 1} differs from an earlier read (${before.digests[diff]!.slice(0, 160)} / now ${now[diff]!.slice(0, 160)})`,
          );
      }
      if (!before || now.length >= before.digests.length) seen.set(runId, { digests: now, at: Date.now() });
      const last = events.at(-1);
      if (last && SETTLED_STATUSES.includes(last.state.status)) settled.add(runId);
      return events;
    };

    // Runs, started at an even pace; a start that fails (a node going down) is counted, not retried.
    const starter = (async () => {
      const gap = 60_000 / opts.runsPerMinute;
      for (let next = Date.now(); Date.now() < chaosEnd; next += gap) {
        await sleep(Math.max(0, next - Date.now()));
        const ms = between(200, 800);
        const pick = rng();
        const byAgent = opts.agents > 0 && pick < 1 / 3;
        // One run in six fails until an operator's bulk retry retries it (scripts/chaos-ops.ts).
        const start = byAgent
          ? client.start('chaos-agent', {})
          : pick > 5 / 6
            ? client.start(FAILING_WORKFLOW, {})
            : client.start('cluster-chaos', { ms });
        track(
          within(start, 30_000, 'start')
            .then(({ runId }) => {
              runIds.push(runId);
            })
            .catch((err: unknown) => {
              startErrors.push(String(err instanceof Error ? err.message : err).slice(0, 200));
            }),
        );
      }
    })();

    // Reads during the chaos: every unsettled run and a few settled ones, in turn, to have something to compare the end with.
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const open = runIds.filter((id) => !settled.has(id)).slice(0, 25);
        const done = runIds.filter((id) => settled.has(id));
        const sample = [
          ...open,
          ...Array.from({ length: Math.min(3, done.length) }, () => done[Math.floor(Math.random() * done.length)]!),
        ];
        for (const id of sample) await observe(id).catch(() => undefined);
        await sleep(1000);
      }
    })();

    /** Every replica of every stream and bucket current: only then may a node die (three nodes survive one loss, not a loss during a catch-up). */
    let unhealthy = '';
    const clusterHealthy = async () => {
      try {
        const report = await within(inspectCluster(jsm, { server: '', expectedReplicas: 3 }), 5000, 'doctor');
        unhealthy = report.warnings.slice(0, 2).join('; ');
        return report.warnings.length === 0 && report.streams.length > 0;
      } catch {
        return false;
      }
    };
    let nodeDown: NatsNode | null = null;
    const restartNode = async (node: NatsNode) => {
      for (;;) {
        try {
          await node.restart();
          return;
        } catch (err) {
          say(`${node.name} restart failed, again: ${String(err).slice(0, 120)}`);
        }
      }
    };
    const killer = (async () => {
      for (;;) {
        const pause = between(4000, 15_000);
        if (Date.now() + pause >= chaosEnd) break;
        await sleep(pause);
        const kinds: Kind[] = ['engine', 'worker', 'node', ...(opts.agents > 0 ? ['agent' as const] : [])];
        const kind = kinds[Math.floor(rng() * kinds.length)]!;
        const downMs = between(2000, 8000);
        if (kind === 'node') {
          if (nodeDown || !(await clusterHealthy())) {
            say(`node kill skipped: a node is down or catching up${unhealthy ? ` (${unhealthy.slice(0, 200)})` : ''}`);
            continue;
          }
          const node = cluster.nodes[Math.floor(rng() * cluster.nodes.length)]!;
          nodeDown = node;
          await node.stop();
          kills.push({ kind, target: node.name, at: Date.now(), downMs });
          say(`killed ${node.name}; back in ${downMs} ms`);
          track(
            sleep(downMs)
              .then(() => restartNode(node))
              .then(() => {
                nodeDown = null;
                say(`${node.name} back`);
              }),
          );
        } else {
          const candidates = [...slots].filter(([, s]) => s.kind === kind && s.proc?.alive());
          if (candidates.length === 0) {
            say(`${kind} kill skipped: none running`);
            continue;
          }
          const [name, slot] = candidates[Math.floor(rng() * candidates.length)]!;
          const victim = slot.proc!;
          slot.proc = null;
          await victim.kill('SIGKILL');
          kills.push({ kind, target: `${name} (pid ${victim.pid})`, at: Date.now(), downMs });
          say(`killed ${name} (pid ${victim.pid}); back in ${downMs} ms`);
          track(
            sleep(downMs)
              .then(() => launch(name, kind))
              .then(() => say(`${name} back`)),
          );
        }
      }
    })();

    // The agent itself: whatever reads 1N.3OX and writes 0UT.3OX. Each task file (its token) is answered once here;
    // a task file written again for the same attempt (a restarted agent) is answered again, as a real agent would.
    let answering = opts.agents > 0;
    let agentAnswers = 0;
    const answered = new Set<string>();
    const responder = (async () => {
      mkdirSync(join(dir, '1N.3OX'), { recursive: true });
      mkdirSync(join(dir, '0UT.3OX'), { recursive: true });
      while (answering) {
        for (const f of readdirSync(join(dir, '1N.3OX')).filter((n) => /^task-.+\.yaml$/.test(n))) {
          const text = (() => {
            try {
              return readFileSync(join(dir, '1N.3OX', f), 'utf8');
            } catch {
              return '';
            }
          })();
          const token = /^ {2}token: (\S+)$/m.exec(text)?.[1];
          const name = f.slice('task-'.length, -'.yaml'.length);
          if (!token || answered.has(`${name} ${token}`)) continue;
          answered.add(`${name} ${token}`);
          writeFileSync(
            join(dir, '0UT.3OX', `.${name}.tmp`),
            `token: ${token}\nstatus: completed\noutput:\n  answered: true\n`,
          );
          renameSync(join(dir, '0UT.3OX', `.${name}.tmp`), join(dir, '0UT.3OX', `result-${name}.yaml`));
          agentAnswers++;
        }
        await sleep(100);
      }
    })();

    // An operator's hand on the slow steps' breaker: opened for a few seconds every half minute or so, then closed.
    const breakerFlips: Array<{ at: number; heldMs: number; ok: boolean }> = [];
    const breakerFlipper = (async () => {
      for (;;) {
        const pause = between(15_000, 35_000);
        const heldMs = between(3000, 8000);
        if (Date.now() + pause + heldMs >= chaosEnd) break;
        await sleep(pause);
        const flip = (to: 'open' | 'close') =>
          cli(['--nats', cluster.url, 'breaker', to, 'handler/slow'], { cwd: dir, env: R3 }).then((r) => r.code === 0);
        const opened = await flip('open');
        say(`breaker handler/slow ${opened ? 'opened' : 'could not be opened (a node down?)'}; closed in ${heldMs} ms`);
        await sleep(heldMs);
        // Closing must not be lost to a node going down: tried until it takes.
        let closed = false;
        for (let i = 0; i < 10 && !(closed = await flip('close')); i++) await sleep(1000);
        breakerFlips.push({ at: Date.now(), heldMs, ok: opened && closed });
      }
    })();

    await Promise.all([starter, killer, breakerFlipper, operator.during(chaosEnd)]);
    answering = false;
    await responder;
    // Whatever the flips left (the breaker's own opening after lost workers' failures), the runs must settle all the same.
    await cli(['--nats', cluster.url, 'breaker', 'close', 'handler/slow'], { cwd: dir, env: R3 });
    const hostileReports = await Promise.all(hostiles.map((h) => h.stop()));
    const decisionsFlooded = (await approver?.stop()) ?? 0;
    // A server that joined through a route port is one the cluster trusts with everything: any is a breach.
    const rogueJoined = rogue ? await rogue.joinedNodes() : [];
    rogue?.stop();
    // The engines' dead letters none of the floods may push out: LF_DLQ's first message is still its first.
    const dlqInfo = await jsm.streams.info('LF_DLQ').catch(() => null);
    const enginesLettersEvicted = dlqInfo ? dlqInfo.state.first_seq - 1 : 0;
    const chaosMs = Date.now() - t0;
    say(`kills stopped (${kills.length}); waiting for restarts and starts in flight`);
    await Promise.allSettled([...pending]);
    for (const [name, slot] of slots) if (!slot.proc?.alive()) await launch(name, slot.kind);

    // Settle: every run read until it is settled, within the settle time.
    const settleEnd = Date.now() + opts.settleMinutes * 60_000;
    reading = false;
    await reader;
    // The operator's last bulk retry once every failing run has failed; the runs it and the schedule started join the judged ones.
    const failingSettled = async () => {
      for (const id of runIds.filter((r) => !settled.has(r))) await observe(id).catch(() => undefined);
      return runIds.every(
        (r) => settled.has(r) || !(seen.get(r)?.digests[0] ?? '').includes(`"workflowId":"${FAILING_WORKFLOW}"`),
      );
    };
    for (const id of await operator.finish(failingSettled, settleEnd)) if (!runIds.includes(id)) runIds.push(id);
    while (Date.now() < settleEnd) {
      const open = runIds.filter((id) => !settled.has(id));
      if (open.length === 0) break;
      for (const id of open) if (Date.now() < settleEnd) await observe(id).catch(() => undefined);
      if (runIds.some((id) => !settled.has(id))) await sleep(1000);
    }
    const settleMs = Date.now() - t0 - chaosMs;
    say(`${runIds.filter((id) => settled.has(id)).length}/${runIds.length} settled; judging`);

    // The verdict, from every run's final log and from the markers.
    const finals = new Map<string, EventEnvelope[] | Error>();
    const readFinal = async (id: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await observe(id);
        } catch (err) {
          if (attempt >= 3) return err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    const ms = readMarkers(markers);
    // Runs whose handlers ran but whose start the client never got an answer for: judged for duplicates too.
    const unacknowledged = [...new Set(ms.map((m) => m.runId))].filter((id) => !runIds.includes(id));
    for (const id of [...runIds, ...unacknowledged]) finals.set(id, await readFinal(id));

    const lost: string[] = [];
    const forged: string[] = [];
    const forks: string[] = [...rewritten];
    const flooded: string[] = [];
    const stuck: string[] = [];
    let completed = 0;
    let failed = 0;
    for (const id of runIds) {
      const events = finals.get(id)!;
      if (events instanceof Error) {
        stuck.push(`${id}: its log could not be read at the end (${events.message})`);
        continue;
      }
      const longest = seen.get(id)?.digests.length ?? 0;
      if (events.length === 0)
        lost.push(
          `${id}: no log (the client was given this run id${longest ? `; ${longest} events read earlier` : ''})`,
        );
      else if (events.length < longest) lost.push(`${id}: ${events.length} events, ${longest} read earlier`);
      forks.push(...historyProblems(events));
      forged.push(...forgedRecords(events).map((f) => `${id}: ${f}`));
      flooded.push(...refusalFlood(events).map((f) => `${id}: ${f}`));
      const status = events.at(-1)?.state.status;
      if (status === 'COMPLETED') completed++;
      else if (status === 'FAILED') failed++;
      else if (!status || !SETTLED_STATUSES.includes(status))
        stuck.push(
          `${id}: ${status ?? 'no log'} after ${events.length} events (last: ${events.at(-1)?.type ?? '-'} ${JSON.stringify(events.at(-1)?.data ?? {}).slice(0, 120)})`,
        );
    }

    const duplicates: string[] = [];
    let duplicateCount = 0;
    const starts = new Map<string, number>();
    for (const m of ms) if (m.what === 'start') starts.set(m.key, (starts.get(m.key) ?? 0) + 1);
    for (const [key, n] of starts) {
      const [runId, task, attempt] = key.split('/');
      const events = finals.get(runId!);
      const restarts = Array.isArray(events)
        ? events.filter(
            (e) =>
              e.type === 'task.restarted' &&
              (e.data as { task: string; attempt: number }).task === task &&
              (e.data as { attempt: number }).attempt === Number(attempt),
          ).length
        : 0;
      if (n > 1 + restarts) {
        duplicateCount += n - 1 - restarts;
        const pids = ms
          .filter((m) => m.key === key)
          .map((m) => `${m.what}@${m.pid}`)
          .join(' ');
        duplicates.push(`${key}: started ${n} times, ${restarts} restart(s) recorded (${pids})`);
      }
    }

    const operations = operator.judge(finals);
    const killsBy = { engine: 0, worker: 0, agent: 0, node: 0 };
    for (const k of kills) killsBy[k.kind]++;
    const result = {
      seed: opts.seed,
      minutes: opts.minutes,
      runsPerMinute: opts.runsPerMinute,
      engines: opts.engines,
      workers: opts.workers,
      runs: {
        started: runIds.length,
        startFailed: startErrors.length,
        completed,
        failed,
        stuck: stuck.length,
        unacknowledged: unacknowledged.length,
      },
      kills: { ...killsBy, total: kills.length },
      agents: { processes: opts.agents, answers: agentAnswers },
      breakerFlips: {
        total: breakerFlips.length,
        taken: breakerFlips.filter((f) => f.ok).length,
        // Attempts the breaker held, as the runs' logs record them (task.delayed): the flips did hold work.
        attemptsHeld: [...finals.values()]
          .filter(Array.isArray)
          .reduce((n, evs) => n + evs.filter((e) => e.type === 'task.delayed').length, 0),
      },
      lost: lost.length,
      forks: forks.length,
      duplicateExecutions: duplicateCount,
      forged: forged.length,
      operations: { ...operations.summary, problems: operations.problems.length },
      hostile: {
        workers: opts.hostile,
        attacks: hostileReports.reduce((n, r) => n + Object.values(r.attacks).reduce((m, a) => m + a.tries, 0), 0),
        lettersFlooded: hostileReports.reduce((n, r) => n + (r.attacks['dlq.flood']?.accepted ?? 0), 0) * 500,
        decisionsFlooded,
        claimsWiped: hostileReports.reduce(
          (n, r) =>
            n +
            (r.attacks['ledger.rollup-all']?.accepted ?? 0) +
            (r.attacks['ledger.purge-stream']?.accepted ?? 0) +
            (r.attacks['ledger.delete-stream']?.accepted ?? 0) +
            (r.attacks['ledger.wildcard-read-other-queue']?.accepted ?? 0),
          0,
        ),
        rogueRouteJoined: rogueJoined.length,
        enginesLettersEvicted,
        refusalsFlooded: flooded.length,
      },
      handlerStarts: ms.filter((m) => m.what === 'start').length,
      restartsRecorded: [...finals.values()]
        .filter(Array.isArray)
        .reduce((n, evs) => n + evs.filter((e) => e.type === 'task.restarted').length, 0),
      shrunkReads: shrunk.length,
      timeMs: { chaos: chaosMs, settle: settleMs, total: Date.now() - t0 },
      details: {
        lost,
        forks,
        duplicates,
        stuck,
        forged,
        flooded,
        operations: operations.problems,
        rogueJoined,
        shrunkReads: shrunk,
        startErrors: [...new Set(startErrors)],
        kills,
      },
    };
    const breaches =
      result.hostile.claimsWiped +
      result.hostile.rogueRouteJoined +
      result.hostile.enginesLettersEvicted +
      result.hostile.refusalsFlooded;
    const bad =
      result.lost +
        result.forks +
        result.duplicateExecutions +
        result.runs.stuck +
        result.forged +
        breaches +
        operations.problems.length >
      0;
    if (bad) {
      // Keep the evidence: each process's output and the logs of the runs named above.
      mkdirSync(join(dir, 'logs'), { recursive: true });
      for (const p of every) writeFileSync(join(dir, 'logs', `${p.name}-${p.pid}.log`), p.output());
      const named = new Set(
        [...lost, ...forks, ...duplicates, ...stuck, ...forged, ...flooded, ...operations.problems].map(
          (s) => s.split(/[:/ ]/)[0]!,
        ),
      );
      for (const id of named) {
        const ev = finals.get(id);
        if (Array.isArray(ev)) writeFileSync(join(dir, `${id}.json`), JSON.stringify(ev, null, 2));
        // The stream's own messages for the run (not through the store's read path), before the cluster goes.
        writeFileSync(
          join(dir, `${id}.raw.txt`),
          await rawMessages(jsm, id).catch((err: unknown) => `could not list: ${String(err)}`),
        );
      }
      writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printTable(result, bad ? dir : null);
    if (!bad) rmSync(dir, { recursive: true, force: true });
    return bad ? 1 : 0;
  } finally {
    await cleanup();
  }
}

function printTable(
  r: {
    seed: number;
    engines: number;
    workers: number;
    runs: {
      started: number;
      startFailed: number;
      completed: number;
      failed: number;
      stuck: number;
      unacknowledged: number;
    };
    kills: { engine: number; worker: number; agent: number; node: number; total: number };
    agents: { processes: number; answers: number };
    breakerFlips: { total: number; taken: number; attemptsHeld: number };
    lost: number;
    forks: number;
    duplicateExecutions: number;
    forged: number;
    handlerStarts: number;
    restartsRecorded: number;
    shrunkReads: number;
    operations: {
      failedRuns: number;
      bulkRetries: number;
      bulkRetryCommandsFailed: number;
      retried: number;
      pauses: number;
      pausesFailed: number;
      scheduleRuns: number;
      problems: number;
    };
    hostile: {
      workers: number;
      attacks: number;
      lettersFlooded: number;
      decisionsFlooded: number;
      claimsWiped: number;
      rogueRouteJoined: number;
      enginesLettersEvicted: number;
      refusalsFlooded: number;
    };
    timeMs: { chaos: number; settle: number; total: number };
    details: Record<string, unknown[]>;
  },
  keptDir: string | null,
): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(0)} s`;
  const rows: [string, string][] = [
    ['seed', `${r.seed} (3 nodes R3, ${r.engines} engines, ${r.workers} workers)`],
    [
      'runs started',
      `${r.runs.started}${r.runs.startFailed ? ` (${r.runs.startFailed} start calls failed${r.runs.unacknowledged ? `, ${r.runs.unacknowledged} of them ran anyway` : ''})` : ''}`,
    ],
    ['completed', String(r.runs.completed)],
    ['failed', String(r.runs.failed)],
    ['stuck', String(r.runs.stuck)],
    [
      'kills',
      `${r.kills.total} (engine ${r.kills.engine}, worker ${r.kills.worker}, agent ${r.kills.agent}, node ${r.kills.node})`,
    ],
    ['file agents', `${r.agents.processes} (${r.agents.answers} task files answered)`],
    [
      'breaker opened',
      `${r.breakerFlips.total} time(s) by an operator (${r.breakerFlips.taken} opened and closed as asked); ${r.breakerFlips.attemptsHeld} attempts held (task.delayed)`,
    ],
    [
      'bulk retries',
      `${r.operations.bulkRetries} (${r.operations.bulkRetryCommandsFailed} failed); ${r.operations.retried} of ${r.operations.failedRuns} failed runs retried`,
    ],
    [
      'schedule pauses',
      `${r.operations.pauses} (${r.operations.pausesFailed} failed); ${r.operations.scheduleRuns} slot runs`,
    ],
    ['operations wrong', String(r.operations.problems)],
    ['lost', String(r.lost)],
    ['forks', String(r.forks)],
    [
      'duplicate executions',
      `${r.duplicateExecutions} (${r.handlerStarts} handler starts, ${r.restartsRecorded} restarts recorded)`,
    ],
    ['forged records', `${r.forged} (${r.hostile.workers} hostile workers, ${r.hostile.attacks} attacks)`],
    [
      'claims wiped or read',
      `${r.hostile.claimsWiped} (wildcard reads of other queues, rollups, purges, deletes accepted)`,
    ],
    ['engine letters lost', `${r.hostile.enginesLettersEvicted} (${r.hostile.lettersFlooded} worker letters flooded)`],
    [
      'refusals flooded',
      `${r.hostile.refusalsFlooded} runs (${r.hostile.decisionsFlooded} decisions sent by a person)`,
    ],
    ['rogue route joined', `${r.hostile.rogueRouteJoined} nodes`],
    ['shorter re-reads', String(r.shrunkReads)],
    ['time', `${s(r.timeMs.total)} (chaos ${s(r.timeMs.chaos)}, settling ${s(r.timeMs.settle)})`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(22)}${v}\n`);
  for (const key of [
    'lost',
    'forks',
    'duplicates',
    'stuck',
    'forged',
    'flooded',
    'operations',
    'rogueJoined',
    'shrunkReads',
    'startErrors',
  ] as const) {
    const items = r.details[key] ?? [];
    if (items.length === 0) continue;
    process.stdout.write(`\n${key}:\n`);
    for (const item of items.slice(0, 20)) process.stdout.write(`  ${String(item)}\n`);
    if (items.length > 20) process.stdout.write(`  … and ${items.length - 20} more\n`);
  }
  if (keptDir)
    process.stdout.write(`\nevidence kept in ${keptDir} (process logs, the named runs' logs, result.json)\n`);
}

let opts: Options;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
}
main(opts).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
