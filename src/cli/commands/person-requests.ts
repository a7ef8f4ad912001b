/**
 * `deploy` over NATS as a person's NATS user, one that may not write the registry itself
 * (docs/users.md#starting-and-deploying-as-yourself): the command asks the engines (cluster/client/requests.ts), which
 * judge the user's level and do it as the engine user (a person's `start` and `retry` are the run API's). The answer is
 * printed as the engine user's own command prints it; a refusal exits 2 naming both levels; no answer within --wait:
 * queued for the next engine, exit 3, said as `queuedLine` says it.
 */
import { readFileSync } from 'node:fs';
import { requestDeploy } from '../../cluster/index.js';
import { UsageError, errorMessage } from '../../errors/index.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';

/** What to say of a request no engine answered in time (or, with --wait 0, was not asked to). */
export function queuedLine(what: string, waitMs: number, runId?: string): string {
  const becomes = runId ? `; it becomes run ${runId}` : '';
  return waitMs === 0
    ? `published the request to ${what}; an engine judges your level and does it${becomes} (a refusal goes to \`ledgerflow dlq\`)`
    : `queued: no engine answered within ${waitMs} ms; the request to ${what} waits in LF_REQUESTS for the next engine, which judges your level and does it${becomes} (a refusal goes to \`ledgerflow dlq\`)`;
}

/** `deploy` as a person: each file's text, parsed and checked here first (every problem at its line:col), then by the engine. */
export async function personDeploy(
  io: Io,
  url: string,
  files: readonly string[],
  opts: { waitMs: number; json: boolean },
): Promise<number> {
  const results: Record<string, unknown>[] = [];
  let code: number = EXIT.ok;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read definition ${file}: ${errorMessage(err)}`, { file });
    }
    const out = await requestDeploy(url, { file, text }, opts.waitMs);
    if (out.queued) {
      results.push({ file, queued: true });
      if (!opts.json) io.out(queuedLine(`deploy ${file}`, opts.waitMs));
      code = opts.waitMs === 0 ? EXIT.ok : EXIT.waiting;
      continue;
    }
    const v = out.verdict;
    results.push({ file, workflowId: v.workflowId, version: v.version, hash: v.hash, changed: v.changed });
    if (!opts.json)
      io.out(
        `${v.changed ? 'deployed' : 'unchanged'} ${v.workflowId}@${v.version} (${(v.hash ?? '').slice(0, 12)}) from ${file}`,
      );
  }
  if (opts.json) io.out(json(results));
  return code;
}
