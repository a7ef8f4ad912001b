/**
 * Rules every adapter applies in the same way, so that "same semantics on every store" (docs/architecture-notes.md) is
 * enforced by shared code rather than by copies kept in step by hand: what a valid run id and append request are, and
 * how a run's first and last events become a RunSummary. Internal to src/store: not re-exported by index.ts.
 */
import {
  CommitSchema,
  RUN_ID_PATTERN,
  SETTLED_STATUSES,
  isBuiltByFold,
  type Commit,
  type EventEnvelope,
  type WorkflowStatus,
} from '../events/index.js';
import { CorruptRunError, StoreError, errorMessage } from '../errors/index.js';
import type { AppendRequest, CorruptRunHandler, EventStore, OnEvents, RunEvents, RunSummary } from './port.js';

/** Run ids become a file name and a subject token: see RUN_ID_PATTERN. */
export function isRunId(runId: unknown): runId is string {
  return typeof runId === 'string' && RUN_ID_PATTERN.test(runId);
}

export function assertRunId(runId: string): void {
  if (!isRunId(runId)) {
    throw new StoreError(`invalid run id ${JSON.stringify(runId)}: use 1-128 characters among A-Z a-z 0-9 _ -`, {
      runId: String(runId),
    });
  }
}

export interface CheckedAppend {
  /** The commit as parsed by zod (unknown keys stripped), or as the fold built it: exactly what gets stored. */
  commit: Commit;
  /** Its JSON encoding; stores keep this form so every store round-trips values the same way. */
  json: string;
  firstSeq: number;
  lastSeq: number;
}

/**
 * Checks what depends only on the request (shape, run ids, consecutive seqs starting at expectedSeq+1). Done before any
 * lock is taken: a malformed request is a programming error whatever the run's state, and validating on write means a
 * store never holds a line that would fail validation on read.
 */
export function checkAppend(req: AppendRequest): CheckedAppend {
  assertRunId(req.runId);
  const { runId, expectedSeq } = req;
  if (!Number.isSafeInteger(expectedSeq) || expectedSeq < 0) {
    throw new StoreError(`append to run ${runId}: expectedSeq must be an integer >= 0, got ${String(expectedSeq)}`, {
      runId,
    });
  }
  let commit: Commit;
  if (typeof req.dedupId === 'string' && req.dedupId !== '' && isBuiltByFold(req.events) && req.events.length > 0) {
    commit = { dedupId: req.dedupId, events: req.events }; // the fold's own commit (see isBuiltByFold)
  } else {
    const parsed = CommitSchema.safeParse({ dedupId: req.dedupId, events: req.events });
    if (!parsed.success) {
      throw new StoreError(`append to run ${runId}: invalid commit: ${parsed.error.message}`, {
        runId,
        dedupId: String(req.dedupId),
      });
    }
    commit = parsed.data;
  }
  commit.events.forEach((e, i) => {
    if (e.runId !== runId) {
      throw new StoreError(`append to run ${runId}: event ${i} belongs to run ${e.runId}`, {
        runId,
        eventRunId: e.runId,
      });
    }
    if (e.seq !== expectedSeq + 1 + i) {
      throw new StoreError(
        `append to run ${runId}: event ${i} has seq ${e.seq}, expected ${expectedSeq + 1 + i} (seqs follow expectedSeq consecutively)`,
        {
          runId,
          expectedSeq,
          seq: e.seq,
        },
      );
    }
  });
  let json: string;
  try {
    json = commitJson(commit, req);
  } catch (err) {
    // BigInt or a cycle inside task output: refuse now rather than store something unreadable.
    throw new StoreError(
      `append to run ${runId}: events are not JSON-serialisable: ${errorMessage(err)}`,
      { runId },
      { cause: err },
    );
  }
  return { commit, json, firstSeq: expectedSeq + 1, lastSeq: expectedSeq + commit.events.length };
}

/**
 * JSON of a parsed commit: exactly JSON.stringify(commit). A start's definition is most of its bytes and the same for
 * every run of it: its JSON, when the caller hands it (`definitionJson`, made once per definition), is spliced in. The
 * parsed envelope's keys are in schema order, `data` last, and a start's data begins with `definition`.
 */
function commitJson(commit: Commit, req: AppendRequest): string {
  // Every commit but a start's with its definition's JSON: one native stringify of the whole, no text built event by event.
  const def = req.definitionJson;
  if (def === undefined) return JSON.stringify(commit);
  let text = `{"dedupId":${JSON.stringify(commit.dedupId)},"events":[`;
  for (let i = 0; i < commit.events.length; i++) {
    const e = commit.events[i]!;
    if (i > 0) text += ',';
    if (e.type !== 'run.started') {
      text += JSON.stringify(e);
      continue;
    }
    // zod's copy of the caller's definition mirrors it key for key, so the bytes are the same either way.
    const { definition: _definition, ...rest } = e.data;
    const head = JSON.stringify({ ...e, data: 0 }); // ends with "data":0}
    text += `${head.slice(0, -2)}{"definition":${def},${JSON.stringify(rest).slice(1)}}`;
  }
  return `${text}]}`;
}

/**
 * A RunSummary from the run's first event (seq 1) and its last event. A notification's note (which may follow a settled
 * run) carries the time of the last event that changed the state: the run settled then, not when the note was written.
 */
export function summarize(first: EventEnvelope, last: EventEnvelope): RunSummary {
  const status = last.state.status;
  const settledAt =
    last.type === 'notification.sent' || last.type === 'notification.dead_lettered' ? last.data.stateTime : last.time;
  return {
    runId: first.runId,
    workflowId: first.workflowId,
    // The version it runs under now: every event is stamped with it, so a migrated run's last names the new one.
    version: last.version,
    status,
    startedAt: first.time,
    completedAt: SETTLED_STATUSES.includes(status) ? settledAt : null,
    lastSeq: last.seq,
    ...parentOf(first),
    ...scheduleOf(first),
  };
}

/** The parent a child run's run.started names, for its summary. */
function parentOf(first: EventEnvelope): Pick<RunSummary, 'parent'> {
  const p = first.type === 'run.started' ? first.data.source?.parent : undefined;
  if (!p) return {};
  return {
    parent: {
      runId: p.runId,
      ...(p.task !== undefined ? { task: p.task } : {}),
      ...(p.relation ? { relation: p.relation } : {}),
    },
  };
}

/** The schedule slot that started a run, for its summary. */
function scheduleOf(first: EventEnvelope): Pick<RunSummary, 'schedule'> {
  const s = first.type === 'run.started' ? first.data.source?.schedule : undefined;
  return s ? { schedule: { trigger: s.trigger, slot: s.slot } } : {};
}

export type RunFilter = { workflowId?: string; status?: WorkflowStatus } & CorruptRunHandler;

/** Tells `onCorrupt` about a corrupt run and returns true; false when `err` is something else or nobody listens (then the caller throws it). */
export function reportCorrupt(err: unknown, handler: CorruptRunHandler): boolean {
  if (!(err instanceof CorruptRunError) || !handler.onCorrupt) return false;
  handler.onCorrupt({ runId: err.runId, file: err.where, reason: err.reason });
  return true;
}

/** Runs summarised at once by listRuns (each a read of its own). */
const LIST_CONCURRENCY = 32;

/** `summaryOf` of each item, LIST_CONCURRENCY at a time; null ones (a run gone meanwhile) and corrupt ones told to `onCorrupt` left out. */
export async function summariesOf<T>(
  items: readonly T[],
  handler: CorruptRunHandler,
  summaryOf: (item: T) => Promise<RunSummary | null>,
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (let i = 0; i < items.length; i += LIST_CONCURRENCY) {
    const batch = await Promise.all(
      items.slice(i, i + LIST_CONCURRENCY).map(async (item) => {
        try {
          return await summaryOf(item);
        } catch (err) {
          if (reportCorrupt(err, handler)) return null;
          throw err;
        }
      }),
    );
    for (const s of batch) if (s) out.push(s);
  }
  return out;
}

/** Applies listRuns' filter and its order (startedAt, then runId) identically in every adapter. */
export function filterAndSort(runs: RunSummary[], filter: RunFilter = {}): RunSummary[] {
  return runs
    .filter(
      (r) =>
        (filter.workflowId === undefined || r.workflowId === filter.workflowId) &&
        (filter.status === undefined || r.status === filter.status),
    )
    .sort(compareRuns);
}

/** Start order: by start time, then run id. */
export function compareRuns(a: { startedAt: string; runId: string }, b: { startedAt: string; runId: string }): number {
  return a.startedAt < b.startedAt
    ? -1
    : a.startedAt > b.startedAt
      ? 1
      : a.runId < b.runId
        ? -1
        : a.runId > b.runId
          ? 1
          : 0;
}

/** Runs a user callback without letting its exception break the store's delivery loop. */
export function deliver(onEvents: OnEvents, events: EventEnvelope[], runId: string): void {
  try {
    onEvents(events);
  } catch (err) {
    process.emitWarning(
      `ledgerflow: follow(${runId}) callback threw: ${(err as Error)?.stack ?? String(err)}`,
      'LedgerflowFollowWarning',
    );
  }
}

/**
 * What a commit's schema found wrong, on one line: the first two issues as `path: message` (`events.0.type:
 * Invalid option: …`), and how many more. zod's own message is the issues as indented JSON, forty lines for one
 * bad event, which a warning about a log printed whole.
 */
export function commitIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const said = (m: string) => {
    const one = m.replace(/\s+/g, ' ');
    return one.length > 240 ? `${one.slice(0, 239)}…` : one;
  };
  const shown = issues
    .slice(0, 2)
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : 'the commit'}: ${said(i.message)}`);
  const more = issues.length - shown.length;
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/**
 * Parses one stored commit and checks it continues the run: valid JSON, a valid commit, events of this run with
 * consecutive seqs after `prevSeq`. `fail` says where (file line, stream message) and throws.
 */
export function parseStoredCommit(
  text: string,
  runId: string,
  prevSeq: number | null,
  place: string,
  fail: (why: string, cause?: unknown) => never,
): Commit {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(`not JSON (${errorMessage(err)})`, err);
  }
  return checkStoredCommit(raw, runId, prevSeq, place, fail);
}

/** parseStoredCommit's checks of a commit already parsed from JSON (one handed over in a message: store/jetstream/handed-commits.ts). */
export function checkStoredCommit(
  raw: unknown,
  runId: string,
  prevSeq: number | null,
  place: string,
  fail: (why: string, cause?: unknown) => never,
): Commit {
  const parsed = CommitSchema.safeParse(raw);
  if (!parsed.success) return fail(`not a valid commit: ${commitIssues(parsed.error.issues)}`, parsed.error);
  const base = prevSeq ?? parsed.data.events[0]!.seq - 1;
  parsed.data.events.forEach((e, i) => {
    if (e.runId !== runId) fail(`event of run ${e.runId} ${place} of run ${runId}`);
    if (e.seq !== base + 1 + i) fail(`event has seq ${e.seq}, expected ${base + 1 + i}`);
  });
  return parsed.data;
}

/**
 * readAll for stores that read a run cheaply by itself (memory, file): list,
 * then read each, a few reads ahead of the caller.
 */
export async function* readAllByRun(
  store: Pick<EventStore, 'listRuns' | 'read'>,
  filter: { workflowId?: string } & CorruptRunHandler = {},
): AsyncIterable<RunEvents> {
  const handler = filter.onCorrupt ? { onCorrupt: filter.onCorrupt } : {};
  const runs = await store.listRuns({
    ...(filter.workflowId !== undefined ? { workflowId: filter.workflowId } : {}),
    ...handler,
  });
  const AHEAD = 8;
  const pending: Promise<RunEvents>[] = [];
  // A run found corrupt while read (a middle line listing does not look at) is reported and left out.
  const readOne = async (runId: string) => {
    try {
      return { runId, events: await store.read(runId) };
    } catch (err) {
      if (reportCorrupt(err, handler)) return { runId, events: [] };
      throw err;
    }
  };
  let next = 0;
  while (next < runs.length && pending.length < AHEAD) pending.push(readOne(runs[next++]!.runId));
  try {
    while (pending.length > 0) {
      const run = await pending.shift()!;
      if (next < runs.length) pending.push(readOne(runs[next++]!.runId));
      if (run.events.length > 0) yield run; // deleted since it was listed: not a run any more
    }
  } finally {
    // A caller that stops early (or a failed read) leaves reads in flight: their outcome no longer matters.
    for (const p of pending) p.catch(() => undefined);
  }
}
