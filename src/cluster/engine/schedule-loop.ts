/**
 * The engine's schedule loop: every tick, the slots due now of every deployed schedule trigger
 * (src/triggers/scheduler.ts), each claimed in KV LF_SCHEDULES (schedule-cursor.ts) so that however many engines run, a
 * slot starts one run, started as a trigger event's run is.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Definition } from '../../definition/index.js';
import { Scheduler, type ScheduledStart } from '../../triggers/index.js';
import { KvScheduleCursor, type DefinitionRegistry, type ClusterSettings } from '../transport/index.js';
import { everyUntilStopped, type Lifecycle } from './inbox.js';
import type { RunHost } from './run-host.js';
import { errorMessage } from '../../errors/index.js';

export interface ScheduleLoopOptions {
  js: JetStreamClient;
  host: RunHost;
  registry: DefinitionRegistry;
  life: Lifecycle;
  /** Where LF_SCHEDULES is kept: the engine's replicas and storage. */
  stored: Pick<ClusterSettings, 'replicas' | 'storage'>;
  stats: { scheduled: number; scheduleTicks: number };
  now: () => number;
  log: (line: string) => void;
  tickMs?: number;
  graceMs?: number;
  claimTimeoutMs?: number;
}

/** Starts the loop (it ends with the engine); returns its Scheduler. */
export function startScheduleLoop(o: ScheduleLoopOptions): Scheduler {
  const { life, host } = o;
  const cursor = new KvScheduleCursor(o.js, o.stored);
  const definitions = scheduledDefinitions(o.registry);
  /** A claimed slot's run: started once (its run id), and its first effects published, as a trigger event's run is. */
  const start = async (s: ScheduledStart): Promise<{ duplicate: boolean }> => {
    const started = await host.startOnce(s.runId, s.definition, s.input, { schedule: s.schedule }, null);
    if (started) o.stats.scheduled++;
    return { duplicate: !started };
  };
  const scheduler = new Scheduler({
    cursor,
    definitions,
    start,
    name: `engine ${process.pid}`,
    log: o.log,
    ...(o.graceMs !== undefined ? { graceMs: o.graceMs } : {}),
    ...(o.claimTimeoutMs !== undefined ? { claimTimeoutMs: o.claimTimeoutMs } : {}),
  });
  everyUntilStopped(
    life,
    o.tickMs ?? 1000,
    async () => {
      await scheduler.fireDue(o.now());
      o.stats.scheduleTicks++;
    },
    (err) => o.log(`schedules: ${errorMessage(err)}; trying again next tick`),
  );
  return scheduler;
}

/**
 * The deployed definitions the schedules come from, read again every 5 s (wall time): a cache of its own, so that the
 * trigger path's (read on demand) is not warmed early by this loop and never misses a definition deployed just before
 * an event.
 */
function scheduledDefinitions(registry: DefinitionRegistry): () => Promise<Definition[]> {
  let defs: Definition[] = [];
  let at = 0;
  return async () => {
    if (Date.now() - at > 5000) {
      defs = await registry.latestAll();
      at = Date.now();
    }
    return defs;
  };
}
