/**
 * ledgerflow's in-process side of the throughput figures: the five-step
 * workflow through Engine.run on one store (memory, file, JetStream), a
 * closed loop of `runs` with `inFlight` at a time, and one run at a time for
 * latency. bench/file.ts, bench/cluster.ts and bench/peers.ts measure
 * through these, so every section runs the same thing.
 */
import type { Definition } from '../src/definition/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import type { EventStore } from '../src/store/index.js';
import { cpuNow, now, pool } from './kit.js';

export interface EngineRound {
  /** Workflows/s over the round. */
  rate: number;
  /** CPU of this process per run (ms): the engine's own, the store's client's, and with the memory store all there is. */
  cpuMsPerRun: number;
}

export interface EngineDriver {
  engine: Engine;
  /** `runs` runs, `inFlight` at a time (each next one started when one completes); start-to-complete of each pushed onto `keep`. */
  round(runs: number, inFlight: number, keep?: number[]): Promise<EngineRound>;
  /** Start-to-complete of one run (ms). */
  one(): Promise<number>;
}

/**
 * Engine.run of `five` on `store` (`follow`, `commitWindowMs`: Engine.run's options; `engine`: one already on
 * that store, to share; `onRun`: told each completed run's id).
 */
export function engineDriver(
  store: EventStore,
  five: Definition,
  handlers: Handlers,
  opts: { follow?: boolean; commitWindowMs?: number; engine?: Engine; onRun?: (runId: string) => void } = {},
): EngineDriver {
  const engine = opts.engine ?? new Engine({ store });
  const runOptions = {
    handlers,
    ...(opts.follow !== undefined ? { follow: opts.follow } : {}),
    ...(opts.commitWindowMs !== undefined ? { commitWindowMs: opts.commitWindowMs } : {}),
  };
  const one = async () => {
    const t = now();
    const v = await engine.run(five, {}, runOptions);
    if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ended ${v.status}`);
    opts.onRun?.(v.runId);
    return now() - t;
  };
  return {
    engine,
    one,
    round: async (runs, inFlight, keep) => {
      const t = now();
      const cpu = cpuNow();
      await pool(runs, inFlight, async () => {
        const ms = await one();
        keep?.push(ms);
      });
      return { rate: runs / ((now() - t) / 1000), cpuMsPerRun: (cpuNow() - cpu) / runs };
    },
  };
}
