/**
 * What the HTTP layer needs from a store, the same on both: reads (the UI's
 * own access), the run index, and the actions, taken as someone: written once
 * over the run API (actions.ts), with who acts proven per store (embedded: the
 * users file's level; NATS: a ClusterClient connected as the signed-in user,
 * so nats.conf's permissions decide).
 */
import type { Actor as AuthorityActor } from '../authority/index.js';
import type { AgentRow } from '../coordination/index.js';
import type { DamagedLog } from '../query/index.js';
import type { Definition, IdReusePolicy } from '../definition/index.js';
import type { Diagnostic } from '../errors/index.js';
import type { WorkflowStatus } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import type { MigrationRow } from '../executor/index.js';
import type { TaskMap } from '../runtime/index.js';
import type { RunView } from '../runtime/index.js';
import type { BulkPlan, BulkResult, RunIndex } from '../query/index.js';
import type { BulkTake } from '../runs/index.js';
import type { ApiError } from './errors.js';
import type { ScheduleAction, ScheduleActionResult } from '../triggers/schedule-control.js';

/**
 * Who acts: the name recorded as `by`, (NATS) the session's own connection, and (embedded, a users file) their
 * level and domains, judged for each action as the CLI judges them (src/authority).
 */
export interface Actor {
  user: string;
  session?: unknown;
  authority?: AuthorityActor;
}

export interface ActionResult {
  [k: string]: unknown;
}

/**
 * A start's answer: the run's id; with a caller-chosen id also its status, and `existing: true` when the id had a run already;
 * `queued: true` over NATS when a person's start waits for an engine (the run will have that id).
 */
export interface StartResult {
  runId: string;
  status?: WorkflowStatus;
  existing?: true;
  queued?: true;
}

export interface Actions {
  decide(
    runId: string,
    task: string,
    decision: 'approved' | 'rejected',
    comment?: string,
    as?: string,
  ): Promise<ActionResult>;
  signal(runId: string, name: string, data?: unknown, as?: string): Promise<ActionResult>;
  cancel(runId: string, reason?: string, as?: string): Promise<ActionResult>;
  pause(runId: string, reason?: string, as?: string): Promise<ActionResult>;
  resume(runId: string, as?: string): Promise<ActionResult>;
  /** `newRunId`: the new run's id where the caller chooses it (a bulk retry's `<id>-retry`; a person's over NATS stays fresh). */
  retry(runId: string, as?: string, newRunId?: string): Promise<{ runId: string; queued?: true }>;
  /** `opts`: a caller-chosen run id and its reuse policy (a duplicate start returns that run, `existing: true`); `priority`: overrides the workflow's for the concurrency queue. */
  start(
    workflowId: string,
    input: Record<string, unknown>,
    version?: number,
    opts?: { runId?: string; idReuse?: IdReusePolicy; priority?: number },
  ): Promise<StartResult>;
  emit(type: string, data: unknown, id?: string): Promise<ActionResult>;
  /** An operator's hand on a circuit breaker (`ledgerflow breaker open|close`): the bridge's (L1). */
  breaker(name: string, to: 'open' | 'close'): Promise<ActionResult>;
  /** A person's hand on a workflow's schedules (`ledgerflow schedules pause|resume|trigger|backfill`): L1. */
  schedule(action: ScheduleAction): Promise<ScheduleActionResult>;
  /** `ledgerflow migrate` on these runs (docs/runs.md#migrating-in-flight-runs); the real one as `deploy` is judged (L1). */
  migrate(runIds: readonly string[], target: CompiledWorkflow, map: TaskMap, dryRun: boolean): Promise<MigrationRow[]>;
  /** A bulk action's runs, each taken as its single action is (runs/bulk.ts); `describe`: a refusal as the API says it. */
  bulk(
    plan: BulkPlan,
    take: BulkTake,
    describe: (err: unknown) => { code: string; message: string },
  ): Promise<BulkResult>;
}

/** What a deploy did: as `ledgerflow deploy --json` prints it (`file`: embedded, where it was written; `queued`: NATS, no engine answered yet). */
export interface DeployOutcome {
  workflowId: string;
  version: number;
  hash?: string;
  changed?: boolean;
  file?: string;
  queued?: true;
}

/** One version of a workflow as the definitions page shows it. */
export interface DefinitionVersion {
  id: string;
  version: number;
  /** Where it was seen: a file of the definitions folder, the deployed registry, or only in runs' run.started. */
  source: 'file' | 'deployed' | 'runs';
  file?: string;
  /** The YAML (files, and deployed versions whose text the registry kept: `deployedText`); else the definition as JSON rendered to YAML. */
  yaml: string;
  /** NATS: `yaml` is the text this version was deployed from (what the editor starts from), not a rendering. */
  deployedText?: true;
  definition: Definition | null;
  problems: Diagnostic[];
}

export interface Backend {
  mode: 'embedded' | 'nats';
  /** The embedded store's folder, said as `<store>` in the errors the API answers with. */
  storeDir?: string;
  /** Embedded: the damage of a run whose log ends at `seq` (query/damage.ts), null when whole. */
  damage?(runId: string, seq: number): Promise<DamagedLog | null>;
  /** Reads, with the UI's own access. */
  store: EventStore;
  runs: RunIndex;
  actions(actor: Actor): Actions;
  /**
   * NATS: the 403 a person nats.conf would not let read the log gets on every
   * read (null: may read). Absent on the embedded store, where the token is
   * the whole door.
   */
  readRefusal?(actor: Actor): Promise<ApiError | null>;
  /** Every version of every workflow known here. */
  definitions(): Promise<DefinitionVersion[]>;
  /** Embedded: the definitions folder (a draft's children are looked for in it; the editor deploys into it). */
  definitionsDir?: string;
  /**
   * The editor's deploy of a checked draft, as `ledgerflow deploy` does it: embedded, written into the
   * definitions folder (L1 with a users file); NATS, as the signed-in person (the engines judge L1).
   */
  deploy?(actor: Actor, draft: { yaml: string; definition: Definition }): Promise<DeployOutcome>;
  schedules(): Promise<unknown[]>;
  triggers(): Promise<unknown[]>;
  workers(): Promise<unknown>;
  /** Who works on the store, one row shape on both (docs/coordination.md#the-agents-seen). */
  agents(): Promise<AgentRow[]>;
  /** NATS: says on each task of the run waiting for a worker whose handler no worker announces that it waits for one (cluster/transport/presence.ts). */
  markUnserved?(definition: Definition, view: RunView): Promise<RunView>;
  close(): Promise<void>;
}
