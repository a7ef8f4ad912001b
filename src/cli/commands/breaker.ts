/**
 * `ledgerflow breaker open|close <target>`: an operator's hand on a circuit breaker (docs/limits.md#circuit-breakers),
 * in the store every process reads it from (the embedded store's `<store>/gates/`, KV LF_TASK_GATES on NATS). `open`
 * holds the target's attempts until a `close`; `close` lets them go and forgets the failures counted.
 */
import { requireAllowed } from '../../authority/index.js';
import { UsageError } from '../../errors/index.js';
import { BREAKER_NAME, setBreaker, type BreakerReport } from '../../limits/index.js';
import { inert } from '../../terminal/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { storeFor } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';
import { actingFor } from '../runs.js';

/** One line of a breaker's state: what `limits show` and `breaker open|close` print. */
export function breakerLine(b: BreakerReport): string {
  const why =
    b.by === 'operator'
      ? ' (by an operator)'
      : b.by === 'failures'
        ? ' (after its failures)'
        : b.by === 'probe'
          ? ' (by its probe)'
          : '';
  if (b.state === 'open')
    return `breaker ${inert(b.name)}: open${b.until ? ` until ${b.until}` : ' until closed'}${why}`;
  if (b.state === 'half_open') return `breaker ${inert(b.name)}: half open, one probe attempt let through${why}`;
  return `breaker ${inert(b.name)}: closed, ${b.failures} failure${b.failures === 1 ? '' : 's'} in its window${why}`;
}

export async function breakerCmd(
  io: Io,
  g: GlobalOpts,
  to: 'open' | 'close',
  target: string,
  opts: { json?: boolean },
): Promise<number> {
  if (!BREAKER_NAME.test(target)) {
    throw new UsageError(
      `no breaker ${JSON.stringify(target)}: name it as \`ledgerflow limits show\` does, task/<workflow>/<task>, queue/<queue> or handler/<handler>`,
      { target },
    );
  }
  requireAllowed((await actingFor(g, undefined)).actor, 'limits');
  const report = await setBreaker(storeFor(g), target, to, Date.now());
  if (opts.json) io.out(json({ breaker: report }));
  else io.out(breakerLine(report));
  return EXIT.ok;
}
