/**
 * Flags of the commands that give a run an input (approve, reject, signal, pause, cancel, resume): who acts, how long
 * to wait for an engine, a signal's --data. Shared by run-inputs.ts, resume-nats.ts and cluster.ts.
 */
import { UsageError, errorMessage } from '../../errors/index.js';
import { SignalBodySchema, type SignalBody } from '../../events/index.js';
import { optionalDurationFlag } from './duration-flag.js';

/** Who acts when nobody says: the same default for every input command and store. */
export const defaultActor = (): string => process.env.USER || 'cli';

/** --wait <duration> over NATS: how long to wait for the engine's verdict (default 10 s; 0: don't). */
export function waitFlag(text: string | undefined): number {
  return optionalDurationFlag('--wait', text, '10s, 1m or 0') ?? 10_000;
}

/** The signal's name and `--data`, checked as the wire checks a signal body. */
export function parseSignalBody(name: string, data: string | undefined): SignalBody {
  let parsed: unknown;
  if (data !== undefined) {
    try {
      parsed = JSON.parse(data);
    } catch (err) {
      throw new UsageError(
        `--data is not JSON: ${errorMessage(err)}; pass the signal's data as e.g. --data '{"approved": true}'`,
        { data },
      );
    }
  }
  const r = SignalBodySchema.safeParse({ name, ...(parsed !== undefined ? { data: parsed } : {}) });
  if (!r.success) {
    throw new UsageError(
      `signal ${JSON.stringify(name)}: ${r.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.') === 'data' ? '--data' : i.path.join('.')}: ` : 'name: '}${i.message}`).join('; ')}`,
      { name },
    );
  }
  return r.data;
}

/** The run id a command without --query needs. */
export function needRunId(runId: string | undefined, command: string): string {
  if (runId === undefined)
    throw new UsageError(
      `${command}: which run? give its id, or --query '<filter>' for every run a filter matches (\`ledgerflow ${command} --help\`)`,
      {},
    );
  return runId;
}
