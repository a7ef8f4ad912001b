/**
 * The JSON the page reads from the API (docs/dashboard.md, "HTTP API"). Shapes the server computes from the library are
 * imported as types, so a change there fails `npm run typecheck` here; the rest is written out.
 */
import type { RunView, TaskProgress } from '../../runtime/view.js';
import type { Definition, InputDecl } from '../../definition/types.js';
import type { WorkflowStatus } from '../../events/index.js';
import type { WorkflowGraph as Graph } from '../../definition/workflow-graph.js';
import type { Diagnostic } from '../../errors/index.js';
import type { AttemptInput } from '../attempt-inputs.js';
import type { RunRecord } from '../../query/record.js';

export type {
  RunView,
  TaskProgress,
  Definition,
  InputDecl,
  WorkflowStatus,
  Graph,
  Diagnostic,
  AttemptInput,
  RunRecord,
};
export type { MetricsSummary } from '../metrics-summary.js';
export type { WorkflowStats } from '../../stats/figures.js';
export type { MonitoringMetric } from '../../definition/types.js';
export type { ScheduleRow } from '../../triggers/schedule-rows.js';
export type { RunPage as RunsPage } from '../../query/paging.js';
export type { BreakerReport } from '../../limits/breaker-gate.js';

export interface RunDetail {
  run: RunView;
  record?: RunRecord;
  definition?: Definition;
  graph?: Graph | null;
  children?: Array<{ runId: string; workflowId?: string; status?: WorkflowStatus; task?: string }>;
  /** The runs that retry this one (a retry's own link back is its record's trigger). */
  retries?: Array<{ runId: string; status: WorkflowStatus }>;
  /** The run that started this one (the view's `parent`). */
  parent?: RunView['parent'] | null;
  /** Instance key → the input its latest attempt ran with (resolved by the runtime's rules); absent for tasks not started. */
  inputs?: Record<string, AttemptInput>;
}

/** A run at one of its events (GET /api/runs/:id/at/:seq): the view, and what the header shows, as they were then. */
export interface RunAt {
  run: RunView;
  inputs?: RunDetail['inputs'];
  record?: RunRecord;
  children?: RunDetail['children'];
  retries?: RunDetail['retries'];
}

export interface Session {
  /** 'embedded': a token; 'nats': a NATS user signed in. */
  mode?: 'embedded' | 'nats';
  /** Who the server can tell apart: 'shared-token' (one token, any name typed), 'users' (the users file: a password or their own token), 'nats'. */
  identity?: 'shared-token' | 'users' | 'nats';
  /** Whether a name and password sign in here (NATS, or the embedded users file). */
  signIn?: boolean;
  /** The signed-in user's level from the users file (embedded), e.g. `L1 (CMD.BRIDGE)`. */
  level?: string | null;
  user?: string | null;
  csrf?: string;
  /** NATS: whether nats.conf lets this user read the log; when not, the server's message and the permission to add. */
  read?: { allowed: boolean; message?: string; subject?: string };
}

/** An error answer; a 401 also says which store the server runs on (how to get in). */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
  mode?: 'embedded' | 'nats';
  identity?: Session['identity'];
  signIn?: boolean;
}

/** A row of GET /api/definitions. */
export interface WorkflowSummary {
  id: string;
  name: string;
  latest: number;
  versions: Array<{
    version: number;
    source: 'file' | 'deployed' | 'runs';
    file?: string;
    valid: boolean;
    problems: number;
  }>;
  inputs: InputDecl[];
}
export interface DefinitionDetail {
  id: string;
  version: number;
  versions: number[];
  source?: string;
  file?: string;
  definition: Definition | null;
  yaml: string;
  /** NATS: `yaml` is the text this version was deployed from, not a rendering of it. */
  deployedText?: boolean;
  problems: Diagnostic[];
  graph: Graph | null;
}
/** `normalised`: one version is known only from its runs, so both are shown as the recorded definition (not the file's own layout). */
export interface DefinitionDiff {
  from: number;
  to: number;
  patch: string;
  normalised?: boolean;
}
export interface ReplayVerdict {
  workflowId: string;
  version: number;
  runs: number;
  compatible: number;
  incompatible: Array<{ runId: string; version: number; divergence: unknown }>;
}

/** A row of GET /api/triggers. */
export type TriggerRow =
  | { workflowId: string; version: number; trigger: number; kind: 'event'; event: string; filter?: string }
  | {
      workflowId: string;
      version: number;
      trigger: number;
      kind: 'schedule';
      cron: string;
      timezone: string;
      catchUp?: string;
    };
