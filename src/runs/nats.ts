/**
 * Runs on NATS: a person's input is published under the identity the connection proves and judged by the engine that
 * records it (nats.conf's permissions, then the same rules as the embedded store); with no engine listening it is
 * judged and recorded here, marked unauthenticated when no NATS user proves the name (cluster/client/run-inputs.ts). A
 * person's start or retry, whose user may not write the log, is a request the engines judge (L1, or L2 in the
 * workflow's domain) and record as theirs; so is a person's archive, restore and blob gc (L1; nats-upkeep.ts).
 */
import {
  archivedRun,
  deliverInput,
  engineListening,
  freshRunId,
  hasUsers,
  lastSeqIfReadable,
  requestStart,
  takeQueuedInputs,
  ProgressBucket,
  type ClusterClient,
} from '../cluster/index.js';
import { RunNotFoundError, UsageError } from '../errors/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { ringOf, sealedProgress } from '../encryption/index.js';
import { jetstreamManager } from '../store/index.js';
import { runReads } from './reads.js';
import { natsUpkeep } from './nats-upkeep.js';
import type {
  Acting,
  Forked,
  ForkRequest,
  InputOutcome,
  Resumed,
  Retried,
  RunInput,
  Started,
  StartingRuns,
  StartRequest,
} from './port.js';

export interface NatsRunsOptions {
  client: ClusterClient;
  /** The server's URL: a user in it is who acts (a name given must be that user). */
  url: string;
  /** Who acts when no NATS user and no name is given. */
  fallback: string;
  /** How long to wait for an engine's verdict when a call does not say (default 0: published, not waited for). */
  waitMs?: number;
  /** Where this reader keeps the runs' start order for `list`'s first page (RunIndexOptions.pageCacheDir; default none). */
  pageCacheDir?: string;
}

export function natsRuns(opts: NatsRunsOptions): StartingRuns {
  const wait = (how: { waitMs?: number }) => how.waitMs ?? opts.waitMs ?? 0;
  const { client } = opts;
  // The live progress as the engines and workers put it, its messages sealed with the data key: opened here with it.
  const progress = sealedProgress(new ProgressBucket(() => client.store.connection()), ringOf(client.store));
  const reads = runReads(client.store, undefined, progress, opts.pageCacheDir);
  const input = (runId: string, input: RunInput, as: Acting, how: { waitMs?: number } = {}): Promise<InputOutcome> =>
    deliverInput(client, opts.url, runId, input, {
      ...(as.name !== undefined ? { as: as.name } : {}),
      fallback: opts.fallback,
      waitMs: wait(how),
    });
  return {
    store: 'nats',
    ...reads,
    // archive, restore and blob gc: a person's user asks the engines, which judge L1 (nats-upkeep.ts).
    ...natsUpkeep(client, opts.url),
    input,
    async resume(
      runId: string,
      as: () => Promise<Acting>,
      how: { waitMs?: number; say?: (line: string) => void } = {},
    ): Promise<Resumed> {
      const seq = await lastSeqIfReadable(client, runId);
      if (seq === null) return { next: 'ask-engines' };
      if (seq === 0) {
        if (!(await archivedRun(client, runId))) throw new RunNotFoundError(runId);
        // Archived, so settled: driven here it says so from its archived log, as on the embedded store.
        return { next: 'drive', resumed: null };
      }
      await client.conn(); // the cluster's streams, so people can approve before any engine has run
      const jsm = await jetstreamManager(await client.store.connection());
      // With an engine running, it takes what is queued; taking it here too would judge it twice.
      if (!(await engineListening(jsm, 'approval')))
        await takeQueuedInputs(client.store, runId, {
          proven: await hasUsers(opts.url),
          say: how.say ?? (() => undefined),
        });
      const view = (await reads.status(runId))!;
      if (view.status !== 'PAUSED') return { next: 'drive', resumed: null };
      const outcome = await input(runId, { kind: 'control', action: 'resume' }, await as(), how);
      if (outcome.recorded && outcome.seq !== null && !(await engineListening(jsm, 'control')))
        return { next: 'drive', resumed: outcome };
      return outcome.recorded ? { next: 'engines', outcome } : { next: 'queued', outcome, view };
    },
    resolve: async (ref: string) => ((await client.mayWriteLog()) ? client.resolve(ref) : null),
    async start(req: StartRequest, _as: Acting, startHow: { waitMs?: number } = {}): Promise<Started> {
      const d = typeof req.definition === 'string' ? null : req.definition;
      const ref = d ? `${d.id}@${d.version}` : (req.definition as string);
      const how = {
        ...(req.inputFromStrings ? { inputFromStrings: true } : {}),
        ...(req.priority !== undefined ? { priority: req.priority } : {}),
      };
      const id = req.runId !== undefined ? { ...(req.idReuse ? { idReuse: req.idReuse } : {}) } : {};
      // A person's user may not write the log: the engines judge their level and start it as theirs (a queued one names its run).
      const person = !(await client.mayWriteLog());
      const runId = req.runId ?? (person ? freshRunId() : undefined);
      let s: Pick<Partial<Started>, 'runId' | 'status'> & { workflowId?: string; version?: number; existing?: boolean };
      if (person) {
        const out = await requestStart(
          opts.url,
          { workflow: ref, input: req.input, ...how, ...(req.runId !== undefined ? { id: runId!, ...id } : { runId }) },
          wait(startHow),
        );
        if (out.queued) return { runId: runId!, queued: true, request: out.request };
        s = out.verdict;
      } else {
        const c = await client.start(ref, req.input, {
          ...how,
          ...(req.runId !== undefined ? { runId: req.runId, ...id } : {}),
        });
        s = { ...c, workflowId: c.definition.id, version: c.definition.version };
      }
      // No status said: a fresh start of a workflow without concurrency, RUNNING as its run.started leaves it.
      return {
        runId: (s.runId ?? runId)!,
        workflowId: (s.workflowId ?? d?.id)!,
        version: (s.version ?? d?.version)!,
        status: s.status ?? 'RUNNING',
        existing: s.existing === true,
      };
    },
    async retry(runId: string, _as: Acting, how: { runId?: string; waitMs?: number } = {}): Promise<Retried> {
      // A person's user may not write the log: the engines judge their level (L1) and record it as theirs.
      if (!(await client.mayWriteLog())) {
        const newId = freshRunId();
        const out = await requestStart(opts.url, { retryOf: runId, runId: newId }, wait(how));
        return out.queued ? { runId: newId, queued: true, request: out.request } : { runId: out.verdict.runId! };
      }
      return { runId: (await client.retry(runId, how.runId !== undefined ? { runId: how.runId } : {})).runId };
    },
    async fork(runId: string, req: ForkRequest, as: Acting, how: { waitMs?: number } = {}): Promise<Forked> {
      if (req.definition !== undefined && typeof req.definition !== 'string')
        throw new UsageError(
          'over NATS a fork goes on under a deployed workflow: name it as <workflowId>[@<version>]',
          {
            option: '--definition',
          },
        );
      const fork = {
        at: req.at,
        ...(req.input ? { input: req.input } : {}),
        ...(req.inputFromStrings ? { inputFromStrings: true } : {}),
        ...(req.definition !== undefined ? { definition: req.definition } : {}),
      };
      const newId = req.runId ?? freshRunId();
      let forked: Forked;
      // A person's user may not write the log: the engines judge their level (L1) and record it as theirs, as a retry.
      if (!(await client.mayWriteLog())) {
        const out = await requestStart(opts.url, { retryOf: runId, runId: newId, fork }, wait(how));
        if (out.queued) return { runId: newId, from: runId, queued: true, request: out.request };
        forked = { runId: out.verdict.runId!, from: runId };
      } else {
        const { definition: ref, ...rest } = fork;
        const definition = ref !== undefined ? await client.resolve(ref) : undefined;
        const r = await client.retry(runId, {
          runId: newId,
          fork: { ...rest, by: as.name ?? opts.fallback, ...(definition ? { definition } : {}) },
        });
        forked = { runId: r.runId, from: runId };
      }
      if (!req.reset) return forked;
      // A settled original is left as it is (the embedded store's cancel says so too); over NATS a cancel would be refused.
      const now = await reads.status(runId).catch(() => null);
      if (now && SETTLED_STATUSES.includes(now.status))
        return {
          ...forked,
          cancelled: {
            by: as.name ?? opts.fallback,
            unauthenticated: false,
            recorded: false,
            queued: false,
            changed: false,
            seq: null,
            status: now.status,
          },
        };
      const cancelled = await input(
        runId,
        { kind: 'control', action: 'cancel', reason: `reset to fork ${forked.runId}` },
        as,
        how,
      );
      return { ...forked, cancelled };
    },
  };
}
