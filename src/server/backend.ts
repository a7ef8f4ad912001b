/**
 * What the HTTP layer needs from a store, the same on both: reads (the UI's own access), the run index, and the
 * actions, taken as someone: written once over the run API (actions.ts), with who acts proven per store (embedded: the
 * users file's level; NATS: a ClusterClient connected as the signed-in user, so nats.conf's permissions decide).
 */
import type { ProgressChannel } from '../progress/index.js';
import type { AgentRow } from '../coordination/index.js';
import type { DamagedLog } from '../query/index.js';
import type { Definition } from '../definition/index.js';
import type { Diagnostic } from '../errors/index.js';
import type { EventStore } from '../store/index.js';
import type { RunView } from '../runtime/index.js';
import type { RunIndex } from '../query/index.js';
import type { Actions, Actor } from './actions.js';
import type { ApiError } from './errors.js';
import type { Auth } from './auth.js';

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
  /** The store's live progress of attempts (docs/handlers.md#progress): files under the embedded store, KV LF_PROGRESS on NATS. */
  progress?: ProgressChannel;
  actions(actor: Actor): Actions;
  /** The actor of a request: embedded, a name (with a users file, their level); NATS, the session's client. */
  actorOf(auth: Auth): Actor;
  /** Sign-in: NATS, by connecting as that user; embedded with a users file, by its password hash. Throws ApiError 401 when refused. */
  signIn?(user: string, password: string): Promise<{ close(): Promise<void> }>;
  /**
   * NATS: the 403 a person nats.conf would not let read the log gets on every read (null: may read). Absent on the
   * embedded store, where the token is the whole door.
   */
  readRefusal?(actor: Actor): Promise<ApiError | null>;
  /** Every version of every workflow known here. */
  definitions(): Promise<DefinitionVersion[]>;
  /** Embedded: the definitions folder (a draft's children are looked for in it; the editor deploys into it). */
  definitionsDir?: string;
  /**
   * The editor's deploy of a checked draft, as `ledgerflow deploy` does it: embedded, written into the definitions
   * folder (L1 with a users file); NATS, as the signed-in person (the engines judge L1).
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
