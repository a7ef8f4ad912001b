/**
 * `resume --nats`: what the cluster says of the run before it is driven here
 * (resumeOverCluster, src/cluster/client/resume.ts: the inputs people queued are
 * taken, a paused run resumed), said.
 */
import { waitFlag, defaultActor } from '../flags/input-flags.js';
import { natsUrl, withClient } from './cluster.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { inputCmd } from './run-inputs.js';
import type { GlobalOpts } from '../flags/store.js';

/** Null: drive the run here (resumeCmd goes on); a number: done, with this exit code. */
export async function resumeOverNats(io: Io, g: GlobalOpts, runId: string, opts: { as?: string; wait?: string; json?: boolean }): Promise<number | null> {
  const url = natsUrl(g);
  const say = opts.json ? io.err : io.out;
  const waitMs = waitFlag(opts.wait);
  const { resumeOverCluster } = await import('../../cluster/index.js');
  // undefined: this user may not read the log, so the resume goes to the engines as any input does (after this client is closed).
  const code = await withClient(g, async (c): Promise<number | null | undefined> => {
    const r = await resumeOverCluster(c, url, runId, { ...(opts.as !== undefined ? { as: opts.as } : {}), fallback: defaultActor(), waitMs, say });
    switch (r.next) {
      case 'ask-engines':
        return undefined;
      case 'drive':
        if (r.resumed) say(`run ${runId} resumed (it was paused) as ${r.resumed.by}`);
        return null;
      case 'engines':
        say(`run ${runId} resumed; the engines continue it (\`ledgerflow wait ${runId}\`), recorded as ${r.outcome.by}`);
        if (opts.json) io.out(json(await c.status(runId)));
        return EXIT.ok;
      case 'queued':
        say(`published the resume of run ${runId} as ${r.outcome.by}${waitMs === 0 ? '' : `, but no engine answered within ${waitMs} ms`}: it waits in LF_CONTROL for an engine`);
        if (opts.json) io.out(json(r.view));
        return waitMs === 0 ? EXIT.ok : EXIT.waiting;
    }
  });
  return code === undefined ? inputCmd(io, g, runId, { kind: 'control', action: 'resume' }, opts) : code;
}
