/**
 * `resume --nats`: before a run is driven here, the inputs people queued for
 * it and no engine took (approvals, signals, run control) are taken, as an
 * engine would take them (src/cluster/queued-inputs.ts); a paused run is
 * resumed as any run input is (recorded here when no engine runs and the name
 * is not proven, else by the engines, which then continue it). A people user,
 * who may not read the log, can only ask the engines to resume it.
 */
import { RunNotFoundError } from '../errors/index.js';
import { deliverInput, engineListening } from '../cluster/run-inputs.js';
import { takeQueuedInputs } from '../cluster/queued-inputs.js';
import { hasUsers } from '../cluster/sender.js';
import type { RunView } from '../runtime/index.js';
import type { Io } from './io.js';
import { natsUrl, withClient } from './cluster.js';
import { EXIT } from './exit.js';
import { defaultActor, waitFlag } from './input-flags.js';
import { inputCmd } from './run-inputs.js';
import type { GlobalOpts } from './store.js';

/** Null: drive the run here (resumeCmd goes on); a number: done, with this exit code. */
export async function resumeOverNats(io: Io, g: GlobalOpts, runId: string, opts: { as?: string; wait?: string; json?: boolean }): Promise<number | null> {
  const url = natsUrl(g);
  const say = opts.json ? io.err : io.out;
  const waitMs = waitFlag(opts.wait);
  let readable = true;
  const first = await withClient(g, (c) => c.status(runId)).catch((err: unknown) => {
    if (!/permission/i.test((err as Error).message)) throw err;
    readable = false;
    return undefined;
  });
  if (first === null) throw new RunNotFoundError(runId);
  if (!readable) return inputCmd(io, g, runId, { kind: 'control', action: 'resume' }, opts);
  return withClient(g, async (c) => {
    await c.prepare();
    const jsm = await (await c.store.connection()).jetstreamManager();
    // With an engine running, it takes what is queued; taking it here too would judge it twice.
    if (!(await engineListening(jsm, 'approval'))) await takeQueuedInputs(c.store, runId, { proven: await hasUsers(url), say });
    const view = (await c.status(runId)) as RunView;
    if (view.status !== 'PAUSED') return null;
    const outcome = await deliverInput(c, url, runId, { kind: 'control', action: 'resume' }, { ...(opts.as !== undefined ? { as: opts.as } : {}), fallback: defaultActor(), waitMs });
    if (outcome.recorded && outcome.seq !== null && !(await engineListening(jsm, 'control'))) {
      say(`run ${runId} resumed (it was paused) as ${outcome.by}`);
      return null;
    }
    if (outcome.recorded) {
      say(`run ${runId} resumed; the engines continue it (\`ledgerflow wait ${runId}\`), recorded as ${outcome.by}`);
      if (opts.json) io.out(JSON.stringify(await c.status(runId), null, 2));
      return EXIT.ok;
    }
    say(`published the resume of run ${runId} as ${outcome.by}${waitMs === 0 ? '' : `, but no engine answered within ${waitMs} ms`}: it waits in LF_CONTROL for an engine`);
    if (opts.json) io.out(JSON.stringify(view, null, 2));
    return waitMs === 0 ? EXIT.ok : EXIT.waiting;
  });
}
