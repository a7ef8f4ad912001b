/**
 * A person's upkeep request (lf.upkeep.<user>; docs/users.md#on-nats), as an engine does it once requests.ts has read
 * it: judged as the embedded store's run API judges the verb (src/runs/upkeep.ts: archive, restore and blob gc are run
 * control, L1; keys rotate the bridge's, `keys`), before anything is touched, then done as the engine user, whose
 * permissions write the streams and KV LF_SECRETS that a person's may not. A refusal moves, restores, deletes and
 * rotates nothing; requests.ts tells it to the sender. `archive list` reads only: a reader's (L2, whoever reads the log).
 */
import type { Action } from '../../authority/index.js';
import { rotateDataKey } from '../../encryption/index.js';
import { collectPayloads } from '../../executor/index.js';
import { archiveOf, archiveRuns } from '../../runs/archival.js';
import { kvSecrets } from '../../secrets/index.js';
import type { ArchivedRun, JetStreamEventStore } from '../../store/index.js';
import {
  UPKEEP_ARCHIVE_MAX,
  UPKEEP_LEFT_MAX,
  UPKEEP_PERIODS_MAX,
  UPKEEP_REASON_MAX,
  type Inbound,
  type UpkeepVerb,
  type UpkeepVerdict,
} from '../transport/index.js';

/** What each verb asks of the sender's level, as on the embedded store. */
const NEEDS: Record<UpkeepVerb, Action> = {
  archive: 'control',
  restore: 'control',
  'blob-gc': 'control',
  'keys-rotate': 'keys',
  // What a person whose NATS user reads the log (L0-L2) may read; the index itself (KV LF_ARCHIVE_INDEX) is the engine's.
  'archive-list': 'read',
};

export interface UpkeepOptions {
  store: JetStreamEventStore;
  /** Throws the refusal when the sender's level does not allow `action` (requests.ts; nothing without a users file). */
  judge: (sender: string, action: Action) => void;
  now: () => number;
  log: (line: string) => void;
}

/** Does the request's verb as the engine user, once its sender is judged: the verdict says what it did. */
export async function doUpkeep(o: UpkeepOptions, { sender, body }: Inbound['upkeep']): Promise<UpkeepVerdict> {
  o.judge(sender, NEEDS[body.verb]);
  switch (body.verb) {
    case 'archive': {
      // At most UPKEEP_ARCHIVE_MAX a request, so that the verdict naming them is one message: the client asks again for more.
      const left: { runId: string; reason: string }[] = [];
      let leftCount = 0;
      const moved = await archiveRuns(o.store, {
        onLeft: (runId, reason) => {
          leftCount++;
          if (left.length < UPKEEP_LEFT_MAX) left.push({ runId, reason: reason.slice(0, UPKEEP_REASON_MAX) });
        },
        ...(body.olderThanMs !== undefined ? { olderThanMs: body.olderThanMs } : {}),
        now: new Date(o.now()),
        max: UPKEEP_ARCHIVE_MAX,
        ...(body.workflowId !== undefined ? { workflowId: body.workflowId } : {}),
        ...(body.batch !== undefined ? { batch: body.batch } : {}),
      });
      o.log(`archived ${moved.length} run${moved.length === 1 ? '' : 's'} for ${sender}`);
      if (leftCount > 0) o.log(`left ${leftCount} run${leftCount === 1 ? '' : 's'} live: ${left[0]!.reason}`);
      return { accepted: true, archived: moved.map(shown), ...(leftCount > 0 ? { left, leftCount } : {}) };
    }
    case 'restore': {
      const run = await archiveOf(o.store).restore(body.runId);
      o.log(`restored run ${body.runId} for ${sender}`);
      return { accepted: true, restored: shown(run) };
    }
    case 'blob-gc': {
      const report = await collectPayloads(o.store, {
        ...(body.graceMs !== undefined ? { graceMs: body.graceMs } : {}),
        now: o.now(),
        ...(body.dryRun ? { dryRun: true } : {}),
      });
      o.log(`collected ${report.collectedCount} unreferenced blobs${body.dryRun ? ' (dry run)' : ''} for ${sender}`);
      // The report names at most PAYLOAD_GC_LIST_MAX blobs and runs (its counts are whole): one message, under 1 MB.
      return { accepted: true, collected: report };
    }
    case 'keys-rotate': {
      // Where `keys rotate --nats` keeps it: KV LF_SECRETS, made if it is not there yet.
      const rotated = await rotateDataKey(kvSecrets(await o.store.connection(), { create: true }));
      o.log(`rotated the data key to ${rotated.id} for ${sender}`);
      return { accepted: true, rotated };
    }
    case 'archive-list': {
      // Months: a century's fits one message; past that the newest are named and the rest said to be left off.
      const all = await archiveOf(o.store).periods();
      const periods = all.slice(-UPKEEP_PERIODS_MAX);
      return { accepted: true, periods, ...(periods.length < all.length ? { periodsTruncated: true as const } : {}) };
    }
  }
}

/** A run as the verdict names it: the run API's ArchivedRun without its attachments (they stay with the store). */
function shown(r: ArchivedRun): NonNullable<UpkeepVerdict['restored']> {
  return {
    runId: r.runId,
    workflowId: r.workflowId,
    version: r.version,
    status: r.status,
    startedAt: r.startedAt,
    completedAt: r.completedAt,
    lastSeq: r.lastSeq,
    period: r.period,
    archivedAt: r.archivedAt,
  };
}
