/** `ledgerflow serve`: a thin wrapper over Service (src/serve): flags, progress on stderr, SIGTERM/SIGINT. */
import { parseSkills } from '../flags/skills-flag.js';
import { resolve } from 'node:path';
import { taskRunners } from '../drive.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { UsageError, errorMessage } from '../../errors/index.js';
import type { Handlers } from '../../runtime/index.js';
import { Service, type ServiceNotice } from '../../service/index.js';
import {
  catalogReader,
  diskEngine,
  embeddedGates,
  embeddedScheduler,
  NO_SCHEDULES,
  scheduledDir,
} from '../../triggers/index.js';
import { loadHandlerModule } from '../../handlers/index.js';
import type { Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import { logLine } from '../render/progress.js';
import { inert, progressLines } from '../../terminal/index.js';
import { cliNotifier } from '../flags/notifications.js';
import { withNotifier } from '../../notify/index.js';
import { storeFor } from '../open-store.js';
import { useStateFile, type StateFileFlags } from './state-file.js';
import { localDir, usesNats, type GlobalOpts } from '../flags/store.js';
import { metricsFlags } from '../flags/metrics-flags.js';
import { archivalTick, type RetentionFlags } from '../flags/retention-flags.js';
import { allBreakers } from '../../limits/index.js';
import { progressSweeps } from '../../local/index.js';

export interface ServeOpts extends StateFileFlags, RetentionFlags {
  commandOutputLimit?: string;
  httpAllow?: string;
  handlers?: string;
  grace?: string;
  json?: boolean;
  outputRoot?: string;
  definitions?: string;
  schedules?: boolean;
  metricsPort?: string;
  metricsHost?: string;
  notifications?: string;
  skills?: string;
}

export async function serveCmd(io: Io, g: GlobalOpts, opts: ServeOpts): Promise<number> {
  if (usesNats(g))
    throw new UsageError(
      'serve drives runs on the embedded store (--store); on NATS JetStream the engines do that: run `ledgerflow engine`',
      {},
    );
  const graceMs = optionalDurationFlag('--grace', opts.grace, '10s, 1m or 0') ?? 10_000;
  const runners = taskRunners(opts);
  const handlers: Handlers | undefined = opts.handlers ? await loadHandlerModule(resolve(opts.handlers)) : undefined;
  const skills = parseSkills(opts.skills);
  const dir = localDir(g);
  // The state file, kept after every commit of the runs served here (docs/state-file.md).
  await useStateFile(g, opts);
  const store = storeFor(g);
  // Everything goes to stderr: stdout carries only the --json notices (one object a line).
  const say = (line: string) => io.err(line);
  const metrics = await metricsFlags(opts, say);
  // The breakers' states are the store's (shared by every process), read at each scrape.
  metrics?.metrics.observeBreakers(() => allBreakers(store, Date.now()));
  const notifier = cliNotifier(store, opts.notifications, say, metrics?.metrics.hooks.onNoted);
  const hooks = withNotifier(
    {
      ...runners,
      onCommit: (
        events: Parameters<typeof progressLines>[0],
        before: Parameters<typeof progressLines>[1],
        after: Parameters<typeof progressLines>[2],
        definition: Parameters<typeof progressLines>[3],
      ) => {
        const runId = events[0]?.runId ?? '?';
        for (const ev of events)
          if (ev.type === 'timer.fired')
            say(
              `[${runId}] ⏰ ${ev.data.timer === 'run_timeout' ? 'run timeout' : `${ev.data.timer} timer of ${ev.data.task}`} fired`,
            );
        for (const l of progressLines(events, before, after, definition)) say(`[${runId}] ${l}`);
        metrics?.onCommit(events, before, after);
      },
      onLog: (task: string, message: string) => say(logLine(task, message)),
    },
    notifier,
  );
  const engine = diskEngine({ store, ...hooks, storeDir: dir });
  const service = new Service({
    engine,
    storeDir: dir,
    graceMs,
    notifier,
    ...(handlers ? { handlers } : {}),
    ...(skills.length > 0 ? { skills: new Set(skills) } : {}),
    ...(metrics ? { onTakeUp: metrics.metrics.observeRun } : {}),
    onNotice: (n: ServiceNotice) => {
      say(inert(n.message));
      if (opts.json) io.out(JSON.stringify({ time: new Date().toISOString(), ...n }));
    },
  });
  const definitions = catalogReader(opts.definitions, say);
  definitions(); // an absent definitions folder is refused now, not at the first tick; broken files are said now
  if (opts.schedules !== false) {
    // The schedules of the user's definitions folder fire from here, every tick of the active serve (never a standby):
    // the scheduler records each due slot's run.started and the service drives it like any other run.
    if (scheduledDir(opts.definitions) === null) say(NO_SCHEDULES);
    else {
      const scheduler = embeddedScheduler({ storeDir: dir, engine, definitions, log: say });
      service.addTickHook(async (now) => {
        await scheduler.fireDue(now.getTime());
      });
    }
  }
  {
    // Debounced bursts that went quiet and throttled events the window lets through start from here (docs/triggers.md#debounce-and-throttle);
    // `emit` records them in <store>/triggers/. Like schedules, only the active serve ticks them.
    const gates = embeddedGates({ storeDir: dir, engine, definitions });
    service.addTickHook(async () => {
      try {
        await gates.tick();
      } catch (err) {
        say(`trigger gates: ${errorMessage(err)}; trying again next tick`);
      }
    });
  }
  // Settled runs past their retention (their definition's `retention:`, else --retention) move to the archive as the
  // active serve goes (docs/retention.md), a bounded batch a round.
  service.addTickHook(await archivalTick(store, opts, say));
  // What a process killed mid-report left under <store>/progress/ for runs that are no longer active goes, at the first
  // tick and now and then after (local/progress-sweep.ts).
  service.addTickHook(progressSweeps(store, dir, say));
  let signalled: NodeJS.Signals | null = null;
  const done = new Promise<void>((resolveDone) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (signalled) return; // a second signal while stopping changes nothing: the grace is already counted
      signalled = sig;
      say(`${sig}: stopping gracefully (grace ${graceMs} ms)`);
      // Deliveries under way get what is left of the grace; the rest are delivered by the next driver (nothing noted).
      const until = Date.now() + graceMs;
      void service
        .stop()
        .then(() =>
          Promise.race([notifier.idle(), new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())).unref())]),
        )
        .then(() => {
          notifier.stop();
          resolveDone();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await service.start();
  await done;
  await metrics?.close();
  return EXIT.ok;
}
