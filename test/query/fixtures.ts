/** Runs for index tests: golden histories copied under new run ids and times, appended through a store as their commits were. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/index.js';
import { HISTORIES_DIR } from '../fixtures/histories/histories.js';

/** A history's commits (one per line), as stored. */
export function historyCommits(file: string): EventEnvelope[][] {
  return readFileSync(join(HISTORIES_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
}

/** The commits under another run id, every time moved by `shiftMs`. */
export function asRun(commits: EventEnvelope[][], runId: string, shiftMs = 0): EventEnvelope[][] {
  const move = (t: string) => new Date(Date.parse(t) + shiftMs).toISOString();
  return commits.map((c) => c.map((e) => ({ ...e, runId, time: move(e.time) }) as EventEnvelope));
}

/** Appends commits [from, to) of a run. */
export async function appendCommits(
  store: EventStore,
  commits: EventEnvelope[][],
  from = 0,
  to = commits.length,
): Promise<void> {
  for (let i = from; i < to; i++) {
    const events = commits[i]!;
    await store.append({
      runId: events[0]!.runId,
      expectedSeq: events[0]!.seq - 1,
      dedupId: `${events[0]!.runId}/${events[0]!.seq}`,
      events,
    });
  }
}

export const COMPLETED_RUN = 'lead_qualification/route_lead-default-to-nurture_lead-ok.jsonl';
export const APPROVED_RUN = 'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl';
export const FAILED_RUN = 'compliance_alerts/pause_affected_run-fails-after-3-attempts-to-run-FAILED.jsonl';
