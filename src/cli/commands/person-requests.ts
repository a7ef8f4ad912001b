/**
 * `start`, `retry` and `deploy` over NATS as a person's NATS user, one that
 * may not write the log itself (docs/users.md#starting-and-deploying-as-yourself):
 * the command asks the engines (cluster/client/requests.ts), which judge the
 * user's level and do it as the engine user. The answer is printed as the
 * engine user's own command prints it; a refusal exits 2 naming both levels;
 * no answer within --wait: queued for the next engine, exit 3.
 */
import { readFileSync } from 'node:fs';
import { freshRunId, requestDeploy, requestStart, type RequestOutcome } from '../../cluster/index.js';
import type { StartRequest, StartVerdict } from '../../cluster/transport/index.js';
import { UsageError, errorMessage } from '../../errors/index.js';
import type { IdReusePolicy } from '../../definition/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';

export interface PersonStart {
  /** <workflowId> or <workflowId>@<version>, as given. */
  ref: string;
  /** The inputs as given (strings from flags, values from --input-file): the engine converts them to their declared types. */
  input: Record<string, unknown>;
  id: { runId?: string; idReuse?: IdReusePolicy };
  priority?: number;
  waitMs: number;
  json: boolean;
}

/** What to say of a request no engine answered in time (or, with --wait 0, was not asked to). */
export function queuedLine(what: string, waitMs: number, runId?: string): string {
  const becomes = runId ? `; it becomes run ${runId}` : '';
  return waitMs === 0
    ? `published the request to ${what}; an engine judges your level and does it${becomes} (a refusal goes to \`ledgerflow dlq\`)`
    : `queued: no engine answered within ${waitMs} ms; the request to ${what} waits in LF_REQUESTS for the next engine, which judges your level and does it${becomes} (a refusal goes to \`ledgerflow dlq\`)`;
}

function queuedCode(waitMs: number): number {
  return waitMs === 0 ? EXIT.ok : EXIT.waiting;
}

/** `start` as a person: the run's id once an engine started it. */
export async function personStart(io: Io, url: string, s: PersonStart): Promise<number> {
  const body: StartRequest = {
    workflow: s.ref, input: s.input, inputFromStrings: true,
    ...(s.id.runId !== undefined ? { id: s.id.runId, ...(s.id.idReuse ? { idReuse: s.id.idReuse } : {}) } : { runId: freshRunId() }),
    ...(s.priority !== undefined ? { priority: s.priority } : {}),
  };
  // A caller-chosen id names the run a queued start will have, as a fresh one's does.
  const out = await requestStart(url, body, s.waitMs).then((o) => (o.queued && s.id.runId !== undefined ? { ...o, runId: s.id.runId } : o));
  return said(io, out, s.json, `start ${s.ref}`, s.waitMs, (v) => {
    if (v.existing && !s.json) io.err(`run ${v.runId} exists already (${v.status}): not started again`);
    io.out(s.json ? json({ runId: v.runId, workflowId: v.workflowId, version: v.version, ...(v.status ? { status: v.status } : {}), ...(v.existing ? { existing: true } : {}) }) : v.runId!);
  });
}

/** `deploy` as a person: each file's text, parsed and checked here first (every problem at its line:col), then by the engine. */
export async function personDeploy(io: Io, url: string, files: readonly string[], opts: { waitMs: number; json: boolean }): Promise<number> {
  const results: Record<string, unknown>[] = [];
  let code: number = EXIT.ok;
  for (const file of files) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (err) { throw new UsageError(`cannot read definition ${file}: ${errorMessage(err)}`, { file }); }
    const out = await requestDeploy(url, { file, text }, opts.waitMs);
    if (out.queued) {
      results.push({ file, queued: true });
      if (!opts.json) io.out(queuedLine(`deploy ${file}`, opts.waitMs));
      code = queuedCode(opts.waitMs);
      continue;
    }
    const v = out.verdict;
    results.push({ file, workflowId: v.workflowId, version: v.version, hash: v.hash, changed: v.changed });
    if (!opts.json) io.out(`${v.changed ? 'deployed' : 'unchanged'} ${v.workflowId}@${v.version} (${(v.hash ?? '').slice(0, 12)}) from ${file}`);
  }
  if (opts.json) io.out(json(results));
  return code;
}

/** The verdict said by `accepted`, or the request said queued; the exit code. */
function said(io: Io, out: RequestOutcome<StartVerdict> & { runId?: string }, asJson: boolean, what: string, waitMs: number, accepted: (v: StartVerdict) => void): number {
  if (!out.queued) {
    accepted(out.verdict);
    return EXIT.ok;
  }
  if (asJson) io.out(json({ queued: true, request: out.request, ...(out.runId ? { runId: out.runId } : {}) }));
  else io.out(queuedLine(what, waitMs, out.runId));
  return queuedCode(waitMs);
}
