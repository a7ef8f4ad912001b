/**
 * `ledgerflow emit` with --nats: the event published for the engines, which start the workflows whose triggers match
 * it, and their verdict awaited.
 */
import { randomUUID } from 'node:crypto';
import { UsageError, errorMessage } from '../../errors/index.js';
import { defaultDir, loadEventTypes, parseEventEnvelope, runIdForEvent } from '../../triggers/index.js';
import { json, type Io } from '../render/io.js';
import { waitFlag } from '../flags/input-flags.js';
import { EXIT } from '../render/exit.js';
import { gatedLine } from '../render/progress.js';
import type { GlobalOpts } from '../flags/store.js';
import { inert } from '../../terminal/index.js';
import { withClient } from './cluster.js';
import { runReads } from '../../runs/index.js';

export function publishEventCmd(
  io: Io,
  g: GlobalOpts,
  type: string,
  opts: {
    data?: string;
    sample?: boolean;
    events?: string;
    id?: string;
    time?: string;
    source?: string;
    wait?: string;
    json?: boolean;
  },
): Promise<number> {
  let data: unknown = {};
  if (opts.sample) {
    if (opts.data !== undefined) throw new UsageError('--sample and --data both give the payload; pass one', {});
    const dir = opts.events ?? defaultDir('events');
    const sample = loadEventTypes(dir).get(type)?.sample;
    if (sample === undefined)
      throw new UsageError(
        `--sample: no sample for event type ${type} in ${dir}; pass the payload with --data '<json>'`,
        { type },
      );
    data = sample;
  } else if (opts.data !== undefined) {
    try {
      data = JSON.parse(opts.data);
    } catch (err) {
      throw new UsageError(`--data is not JSON: ${errorMessage(err)}`, {});
    }
  }
  const parsed = parseEventEnvelope({
    id: opts.id ?? randomUUID(),
    type,
    time: opts.time ?? new Date().toISOString(),
    ...(opts.source ? { source: opts.source } : {}),
    data,
  });
  if (!parsed.ok) throw new UsageError(`not a valid event: ${parsed.problems.join('; ')}`, {});
  const waitMs = waitFlag(opts.wait);
  const event = parsed.event;
  return withClient(g, async (c) => {
    const { verdict, duplicate } = await c.emit(event, { waitMs });
    // The runs as `emit` on the embedded store reports them: each with its version and status (null where this user may not read the log).
    const runOf = async (runId: string, workflowId: string, dup: boolean) => {
      const view = await runReads(c.store)
        .status(runId)
        .catch(() => null);
      return { runId, workflowId, version: view?.version ?? null, status: view?.status ?? null, duplicate: dup };
    };
    let runs: Awaited<ReturnType<typeof runOf>>[] = [];
    if (duplicate) {
      // Its runs are the first delivery's: one per deployed workflow, under the run id the event id gives.
      const deployed = await c.deployed().catch(() => []);
      for (const d of deployed) {
        const r = await runOf(runIdForEvent(event.id, d.id), d.id, true);
        if (r.status !== null) runs.push(r);
      }
    } else if (verdict?.accepted) {
      runs = await Promise.all(
        verdict.runs.map((r) =>
          runOf(r.runId, r.workflowId, !r.started && r.reason === 'already started by this event'),
        ),
      );
    }
    const rejected =
      verdict && !verdict.accepted
        ? {
            stage: verdict.stage ?? 'refused',
            reason: verdict.reason ?? '',
            problems: [],
            deadLetter: 'lf.dlq.triggers',
          }
        : null;
    const accepted = duplicate ? true : verdict ? verdict.accepted : null;
    const gated = verdict?.gated ?? [];
    if (opts.json) io.out(json({ event, accepted, duplicate, runs, gated, rejected, warnings: [], skipped: [] }));
    const say = opts.json ? io.err : io.out;
    if (duplicate) {
      say(
        `event ${event.id} was already published (the stream's dedup window dropped this repeat): a duplicate, nothing started again`,
      );
      for (const r of runs) say(`run ${r.runId} (${r.workflowId}) already started by it: ${r.status}`);
      return EXIT.ok;
    }
    if (!verdict) {
      say(
        waitMs === 0
          ? `published ${type} event ${event.id}; the engines start its runs (a refused event goes to lf.dlq.triggers with the reason)`
          : `published ${type} event ${event.id}, but no engine answered within ${waitMs} ms: it waits in LF_TRIGGERS for the next engine`,
      );
      return waitMs === 0 ? EXIT.ok : EXIT.waiting;
    }
    if (!verdict.accepted) {
      io.err(
        `error: the engines refused event ${event.id} (${verdict.stage ?? 'refused'}): ${inert(verdict.reason ?? '')}; it is kept in lf.dlq.triggers`,
      );
      return EXIT.usage;
    }
    for (const g of gated) if (g.decision !== 'started') say(gatedLine(event.id, g, false));
    if (verdict.runs.length === 0 && gated.length === 0)
      say(`event ${event.id} accepted; no workflow's trigger matched it`);
    else
      for (const r of verdict.runs)
        say(
          `${r.started ? 'started' : 'not started'} ${r.workflowId} run ${r.runId}${r.reason ? ` (${inert(r.reason)})` : ''}`,
        );
    return verdict.runs.some((r) => !r.started && r.reason !== 'already started by this event') ? EXIT.usage : EXIT.ok;
  });
}
