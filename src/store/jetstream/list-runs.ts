/**
 * Listing a JetStream store's runs (JetStreamEventStore.listRuns): from the stream itself, no projection. Its own
 * file, as reading every run (read-all.ts) and following one (follow.ts) are.
 */
import type { Commit, EventEnvelope } from '../../events/index.js';
import { filterAndSort, isRunId, reportCorrupt, summariesOf, summarize, type RunFilter } from '../common.js';
import type { RunSummary } from '../port.js';
import type { RaceContext } from './append-races.js';
import { decodeCommit, isArchiveMarker, isSubjectToken, parseRunSubject, toStoreError } from './codec.js';
import { DeliverPolicy } from './nats-lib.js';
import { getMessage } from './run-messages.js';
import { scanMessages } from './scan.js';

/**
 * From the stream itself, no projection: one last-per-subject consumer gives every run's last commit (status, last
 * sequence, end time), which also holds run.started for a run of one commit; the other runs' first commits are fetched
 * by direct get, only for runs the status filter keeps.
 */
export async function listRunSummaries(ctx: RaceContext, filter: RunFilter = {}): Promise<RunSummary[]> {
  const { workflowId } = filter;
  if (workflowId !== undefined && !isSubjectToken(workflowId)) return []; // no run can be recorded under it
  try {
    const c = await ctx.link.ready();
    const filter_subject = `${ctx.o.subjectPrefix}.${workflowId ?? '*'}.*`;
    const out: RunSummary[] = [];
    const needFirst: { subject: string; runId: string; last: EventEnvelope }[] = [];
    for await (const m of scanMessages(ctx.link, ctx.o, c, 'list runs', {
      filter_subject,
      deliver_policy: DeliverPolicy.LastPerSubject,
    })) {
      const ids = parseRunSubject(ctx.o.subjectPrefix, m.subject);
      if (!ids || !isRunId(ids.runId)) continue; // not a run subject
      if (isArchiveMarker(m.data)) continue; // moving to the archive (compare-purge.ts): not live
      let commit: Commit;
      try {
        commit = decodeCommit(m.data, ids.runId, { stream: ctx.o.stream, seq: m.seq, subject: m.subject }, null);
      } catch (err) {
        if (reportCorrupt(err, filter)) continue;
        throw err;
      }
      const first = commit.events[0]!;
      const last = commit.events[commit.events.length - 1]!;
      ctx.positions.remember(
        ids.runId,
        { subject: m.subject, lastStreamSeq: m.seq, lastEventSeq: last.seq, lastFirstSeq: first.seq },
        false,
      );
      if (filter.status !== undefined && last.state.status !== filter.status) continue;
      if (first.seq === 1) out.push(summarize(first, last));
      else needFirst.push({ subject: m.subject, runId: ids.runId, last });
    }
    const deadline = ctx.link.deadline();
    const found = await summariesOf(needFirst, filter, async ({ subject, runId, last }) => {
      const m = await getMessage(ctx.link, ctx.o, c, { next_by_subj: subject, seq: 1 }, deadline);
      return m && !isArchiveMarker(m.data)
        ? summarize(decodeCommit(m.data, runId, { stream: ctx.o.stream, seq: m.seq, subject }, null).events[0]!, last)
        : null; // null: removed (or archived) meanwhile
    });
    return filterAndSort([...out, ...found], filter);
  } catch (err) {
    throw toStoreError(err, 'list runs', { stream: ctx.o.stream });
  }
}
