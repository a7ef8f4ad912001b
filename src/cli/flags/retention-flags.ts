/**
 * `--retention` and `--archive-every` of `serve` and `engine` (docs/retention.md): the store's default retention and
 * how often the runs past it are looked for, read once and checked (exit 2 for a value that is not a duration).
 */
import { UsageError } from '../../errors/index.js';
import type { EventStore } from '../../store/index.js';
import { optionalUnitDurationFlag } from './duration-flag.js';

export const retentionOptions = [
  [
    '--retention <duration>',
    "the store's default retention (or LEDGERFLOW_RETENTION): settled runs whose workflow sets no `retention:` move to the archive that long after they settle, e.g. 30d (default: kept live)",
  ],
  [
    '--archive-every <duration>',
    'how often runs past their retention are looked for and archived, more than 0 (default 1m)',
  ],
] as const;

export interface RetentionFlags {
  retention?: string;
  archiveEvery?: string;
}

/** The tick that archives runs past their retention, a bounded batch a round (runs/archival.ts). */
export async function archivalTick(
  store: EventStore,
  opts: RetentionFlags,
  say: (line: string) => void,
): Promise<(now: Date) => Promise<void>> {
  const fromEnv = opts.retention === undefined ? process.env.LEDGERFLOW_RETENTION || undefined : undefined;
  const flag = fromEnv !== undefined ? 'LEDGERFLOW_RETENTION' : '--retention';
  const defaultRetentionMs = optionalUnitDurationFlag(flag, opts.retention ?? fromEnv, '30d or 12h');
  // Refused as `retention: 0` is in a definition: 0 reads as "off" to many, and here it meant "archive every settled
  // run at the next round", which moved a whole store's runs out of `list` within a minute of `serve` starting.
  if (defaultRetentionMs === 0)
    throw new UsageError(
      `${flag} ${opts.retention ?? fromEnv}: a retention must be longer than 0, e.g. 30d (leave ${flag} out to keep settled runs live)`,
      { flag, value: opts.retention ?? fromEnv },
    );
  const everyMs = optionalUnitDurationFlag('--archive-every', opts.archiveEvery, '1m or 10s') ?? 60_000;
  // 0 read as "no pause between rounds": a round every second (the tick's pace), the store scanned for nothing.
  if (everyMs === 0)
    throw new UsageError(
      `--archive-every ${opts.archiveEvery}: rounds must be longer than 0 apart, e.g. 1m or 10s (leave --archive-every out for a round a minute)`,
      { flag: '--archive-every', value: opts.archiveEvery },
    );
  const { archivalRounds } = await import('../../runs/index.js');
  return archivalRounds(store, { everyMs, say, ...(defaultRetentionMs !== undefined ? { defaultRetentionMs } : {}) });
}

/** Calls `tick` once a second (the round itself says when it is due), never two at once, until stop(). */
export function everySecond(tick: (now: Date) => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= tick(new Date()).finally(() => {
      running = null;
    });
  }, 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
