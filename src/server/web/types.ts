/**
 * The JSON the page reads from the API (docs/dashboard.md, "HTTP API").
 * Shapes the server computes from the library are imported as types, so a
 * change there fails `npm run typecheck` here; the rest is written out.
 */
import type { RunView, TaskView } from '../../runtime/view.js';
import type { Definition, InputDecl, InputType } from '../../definition/types.js';
import type { EventEnvelope, WorkflowStatus } from '../../events/index.js';
import type { TaskStatus } from '../../compiler/context.js';

export type { RunView, TaskView, Definition, InputDecl, InputType, EventEnvelope, WorkflowStatus, TaskStatus };

export type Trigger =
  | { kind: 'event'; type: string; id: string }
  | { kind: 'schedule'; slot: string }
  | { kind: 'parent'; runId: string; relation?: string }
  | { kind: 'retry'; runId: string }
  | { kind: 'manual' };

/** One row of the runs page (src/query's run record). */
export interface RunRecord {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  startedAt: string;
  completedAt: string | null;
  lastSeq?: number;
  trigger: Trigger;
  agents: string[];
  durationMs: number | null;
  result?: string;
  tasks?: Record<string, { status: TaskStatus; attempts: number; durationMs: number | null }>;
  waiting?: string[];
}

export interface RunsPage { runs: RunRecord[]; nextCursor: string | null; total?: number }

export interface GraphNode { id: string; type?: string; label?: string; name?: string }
export interface GraphEdge { from: string; to: string; label?: string; via?: string }
export interface Graph { nodes: GraphNode[]; edges: GraphEdge[] }

export interface RunDetail {
  run: RunView;
  record?: RunRecord;
  definition?: Definition;
  graph?: Graph;
  children?: Array<{ runId: string; workflowId?: string; status?: WorkflowStatus; task?: string }>;
  parent?: { runId: string; workflowId?: string; task?: string; relation?: string } | null;
}

export interface Session {
  /** 'embedded': a token; 'nats': a NATS user signed in. */
  mode?: 'embedded' | 'nats';
  user?: string | null;
  csrf?: string;
}

export interface ApiErrorBody { error: { code: string; message: string; field?: string } }

export interface DefinitionVersion { version: number; hash?: string; deployedAt?: string }
export interface DefinitionSummary { id: string; name?: string; description?: string; versions: Array<number | DefinitionVersion>; latest?: number; problems?: Problem[] }
export interface Problem { message: string; path?: string; line?: number; col?: number; code?: string; severity?: string }
export interface DefinitionDetail {
  id: string;
  version: number;
  versions?: Array<number | DefinitionVersion>;
  definition?: Definition;
  yaml?: string;
  problems?: Problem[];
  graph?: Graph;
}
