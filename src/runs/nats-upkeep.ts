/**
 * The upkeep verbs on NATS (docs/users.md#on-nats): the engine user's connection writes the streams itself, through
 * the run API as on the embedded store (upkeep.ts); a person's, which may not write the log, asks the engines
 * (lf.upkeep.<user>), which judge the level as the run API does (L1; `keys rotate` the bridge's) and do it as the
 * engine user; `archive list` asks them too (a person may not read the archive's index), at a reader's level (L2).
 * A refusal is the embedded store's (LF_AUTHORITY_REFUSED, both levels named, exit 2): nothing changes.
 */
import {
  requestUpkeep,
  UPKEEP_ARCHIVE_MAX,
  type ClusterClient,
  type UpkeepRequest,
  type UpkeepVerdict,
} from '../cluster/index.js';
import { LedgerflowError } from '../errors/index.js';
import type { ArchivedRun, ArchivePeriod } from '../store/index.js';
import { runUpkeep, type RunUpkeep } from './upkeep.js';

/** How long a person's upkeep verb waits for an engine's verdict: an archive round moves up to UPKEEP_ARCHIVE_MAX runs. */
export const UPKEEP_WAIT_MS = 60_000;
/**
 * How long `archive list` waits: a read a running engine answers at once (the kept count per period), and one that
 * nobody answers is worth nothing later. A person's NATS user cannot tell whether an engine runs (presence is the
 * engines' and workers'), so no answer in this time is taken as none running.
 */
export const ARCHIVE_LIST_WAIT_MS = 10_000;

/** The engines' verdict on `body`, asked as the URL's user: a refusal throws (requestUpkeep), and so does no answer in time. */
async function ask(url: string, body: UpkeepRequest, what: string, waitMs: number): Promise<UpkeepVerdict> {
  const out = await requestUpkeep(url, body, waitMs);
  if (!out.queued) return out.verdict;
  const later =
    body.verb === 'archive-list'
      ? `is an engine running? People's \`archive list\` is read by the engines (start one: \`ledgerflow engine --nats <url> --users <file>\`), or list it as the engine user`
      : `it waits in LF_REQUESTS for the next engine (\`ledgerflow engine --users <file>\`), which judges your level and does it`;
  throw new LedgerflowError(
    'LF_NATS_TIMEOUT',
    `no engine answered the request to ${what} within ${waitMs / 1000} s: ${later}`,
    {
      request: out.request,
    },
  );
}

export function natsUpkeep(client: ClusterClient, url: string, waitMs = UPKEEP_WAIT_MS): RunUpkeep {
  const direct = runUpkeep(client.store);
  return {
    async archive(sel, as) {
      if (await client.mayWriteLog()) return direct.archive(sel, as);
      // An engine moves at most UPKEEP_ARCHIVE_MAX a request: asked again until a round moves fewer.
      const moved: ArchivedRun[] = [];
      // Each request finds the runs left live again: each is told once.
      const told = new Set<string>();
      for (;;) {
        const verdict = await ask(
          url,
          {
            verb: 'archive',
            ...(sel.olderThanMs !== undefined ? { olderThanMs: sel.olderThanMs } : {}),
            ...(sel.workflowId !== undefined ? { workflowId: sel.workflowId } : {}),
            ...(sel.batch !== undefined ? { batch: sel.batch } : {}),
          },
          'archive runs',
          waitMs,
        );
        for (const l of verdict.left ?? [])
          if (!told.has(l.runId)) {
            told.add(l.runId);
            sel.onLeft?.(l.runId, l.reason);
          }
        const round = verdict.archived ?? [];
        moved.push(...round);
        if (round.length > 0) sel.onProgress?.(moved.length, moved.length);
        if (round.length < UPKEEP_ARCHIVE_MAX) return moved;
      }
    },
    async restore(runId, as) {
      if (await client.mayWriteLog()) return direct.restore(runId, as);
      return (await ask(url, { verb: 'restore', runId }, `restore run ${runId}`, waitMs)).restored!;
    },
    async collectBlobs(opts, as) {
      if (await client.mayWriteLog()) return direct.collectBlobs(opts, as);
      const body: UpkeepRequest = {
        verb: 'blob-gc',
        ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
      };
      const r = (await ask(url, body, 'collect unreferenced blobs', waitMs)).collected!;
      // An engine older than the counts named every blob and run: its lists are whole.
      return {
        ...r,
        collectedCount: r.collectedCount ?? r.collected.length,
        corruptCount: r.corruptCount ?? r.corrupt.length,
        truncated: r.truncated ?? false,
      };
    },
  };
}

/** `keys rotate --nats` as a person: the engines judge the bridge's level and rotate the key in KV LF_SECRETS. */
export async function requestKeyRotation(
  url: string,
  waitMs = UPKEEP_WAIT_MS,
): Promise<{ id: string; previous: string | null }> {
  return (await ask(url, { verb: 'keys-rotate' }, 'rotate the data key', waitMs)).rotated!;
}

/**
 * `archive list --nats` as a person, whose NATS user may not read KV LF_ARCHIVE_INDEX: the engines judge a reader's
 * level (L2, whoever reads the log) and answer with the periods, as RunArchive.periods gives them.
 */
export async function requestArchivePeriods(
  url: string,
  waitMs = ARCHIVE_LIST_WAIT_MS,
): Promise<{ periods: ArchivePeriod[]; truncated: boolean }> {
  const v = await ask(url, { verb: 'archive-list' }, 'list the archive', waitMs);
  return { periods: v.periods ?? [], truncated: v.periodsTruncated === true };
}
