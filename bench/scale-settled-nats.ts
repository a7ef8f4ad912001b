/**
 * Settled runs on NATS (bench/scale.ts): the same store as scale-settled.ts (golden histories of the folder-report
 * workflow under new ids), appended to JetStream through the store (JetStreamEventStore.append, 256 in flight) and
 * indexed as an operator does it (`ledgerflow reindex`); then what a user asks of it, each as users ask it: `ledgerflow
 * --nats <url> list`, `status <id>` and `stats folder-report` (the built CLI, start to exit), `GET /api/runs?limit=50` of
 * a running `ledgerflow --nats <url> ui` signed in as a person; and the peak resident memory of that `ui` and of one
 * `ledgerflow engine` on the store (its projection caught up, nothing to drive).
 */
import type { EventEnvelope } from '../src/events/index.js';
import { JetStreamEventStore } from '../src/store/index.js';
import { spawnCli } from './handlers-rig.js';
import { settledPeak, stop, templateOf, until } from './held.js';
import { p50, progress } from './kit.js';
import { startBenchNats } from './nats.js';
import { apiRunsP50, cliMs, settle, started, type SettledMeasured } from './scale-settled.js';

/** `runs` settled runs appended to a new nats-server's log, the run index rebuilt by `ledgerflow reindex`. */
async function filled(runs: number) {
  const server = await startBenchNats();
  const ok = templateOf('classify-default-to-note_stocked-ok.jsonl');
  const failed = templateOf('count_files-times-out-on-all-2-attempts-to-run-FAILED.jsonl');
  const store = new JetStreamEventStore({ servers: server.url });
  try {
    for (let i = 0; i < runs; i += 256) {
      await Promise.all(
        Array.from({ length: Math.min(256, runs - i) }, (_, k) => {
          const n = i + k;
          const runId = `h${String(n).padStart(6, '0')}`;
          const day = new Date(Date.UTC(2026, 0, 1 + (n % 100))).toISOString().slice(0, 11);
          const text = (n % 10 === 3 ? failed : ok).split('lf-path').join(runId).split('2026-01-01T').join(day);
          const { events } = JSON.parse(text) as { events: EventEnvelope[] };
          return store.append({ runId, expectedSeq: 0, dedupId: `${runId}/all`, events });
        }),
      );
      if (i % 25_600 === 25_344) progress(`scale: settled on NATS: ${i} of ${runs} appended`);
    }
  } finally {
    await store.close();
  }
  await cliMs(['--nats', server.url, 'reindex'], process.cwd());
  settle();
  return server;
}

export async function settledOnNatsAt(runs: number, reps: number): Promise<SettledMeasured> {
  const server = await filled(runs);
  const nats = ['--nats', server.url];
  const cwd = process.cwd();
  try {
    await cliMs([...nats, 'list'], cwd);
    const times = async (args: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) ms.push(await cliMs([...nats, ...args], cwd));
      return p50(ms);
    };
    const listP50Ms = await times(['list']);
    const statusP50Ms = await times(['status', `h${String(Math.floor(runs / 2)).padStart(6, '0')}`]);
    const statsP50Ms = await times(['stats', 'folder-report']);

    const ui = started([...nats, 'ui', '--port', '0', '--json'], cwd);
    let apiRunsP50Ms: number;
    let uiMb: number;
    try {
      const { base } = await until('the ui on NATS listening', () => {
        try {
          return JSON.parse(ui.out().split('\n')[0]!) as { base: string };
        } catch {
          return null;
        }
      });
      // A person signs in (nats.conf's alice may read the log), as the dashboard's page does.
      const signed = await fetch(`${base}api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice', password: 'alice-dev-password' }),
      });
      if (!signed.ok) throw new Error(`scale: signing in to the ui on NATS answered ${signed.status}`);
      const cookie = signed.headers.get('set-cookie')!.split(';')[0]!;
      await signed.body?.cancel();
      apiRunsP50Ms = await apiRunsP50(base, { cookie }, runs, reps);
      uiMb = await settledPeak(ui.child.pid!);
    } finally {
      await stop(ui.child);
    }

    const engine = await spawnCli(['engine', ...nats, '--no-state-file'], 'taking work from', cwd);
    let serveMb: number;
    try {
      serveMb = await settledPeak(engine.pid!);
    } finally {
      await stop(engine);
    }
    return { listP50Ms, statusP50Ms, statsP50Ms, apiRunsP50Ms, serveMb, uiMb };
  } finally {
    await server.dispose();
  }
}
