/**
 * The Conductor WorkflowDef JSON this importer reads: only the fields it
 * maps are typed; everything else is kept loose (Conductor exports carry many
 * fields that mean nothing here, and they are ignored or noted, never an error).
 */
import { z } from 'zod';

const Params = z.record(z.string(), z.unknown());

export interface ConductorTask {
  name?: string | undefined;
  taskReferenceName: string;
  type: string;
  description?: string | undefined;
  inputParameters?: Record<string, unknown> | undefined;
  optional?: boolean | undefined;
  startDelay?: number | undefined;
  retryCount?: number | undefined;
  asyncComplete?: boolean | undefined;
  // SWITCH / DECISION
  evaluatorType?: string | undefined;
  expression?: string | undefined;
  caseValueParam?: string | undefined;
  caseExpression?: string | undefined;
  decisionCases?: Record<string, ConductorTask[]> | undefined;
  defaultCase?: ConductorTask[] | undefined;
  // FORK_JOIN / JOIN
  forkTasks?: ConductorTask[][] | undefined;
  joinOn?: string[] | undefined;
  defaultExclusiveJoinTask?: string[] | undefined;
  // FORK_JOIN_DYNAMIC
  dynamicForkTasksParam?: string | undefined;
  dynamicForkTasksInputParamName?: string | undefined;
  // DO_WHILE
  loopCondition?: string | undefined;
  loopOver?: ConductorTask[] | undefined;
  // SUB_WORKFLOW
  subWorkflowParam?: { name?: string | undefined; version?: number | undefined; workflowDefinition?: unknown } | undefined;
  // EVENT
  sink?: string | undefined;
  taskDefinition?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

const Task: z.ZodType<ConductorTask> = z.lazy(() => z.looseObject({
  name: z.string().optional(),
  taskReferenceName: z.string({ error: 'every task needs a taskReferenceName (a string)' }).min(1),
  type: z.string({ error: 'every task needs a type (a string)' }).min(1),
  description: z.string().optional(),
  inputParameters: Params.optional(),
  optional: z.boolean().optional(),
  startDelay: z.number().optional(),
  retryCount: z.number().optional(),
  asyncComplete: z.boolean().optional(),
  evaluatorType: z.string().optional(),
  expression: z.string().optional(),
  caseValueParam: z.string().optional(),
  caseExpression: z.string().optional(),
  decisionCases: z.record(z.string(), z.array(Task)).optional(),
  defaultCase: z.array(Task).optional(),
  forkTasks: z.array(z.array(Task)).optional(),
  joinOn: z.array(z.string()).optional(),
  defaultExclusiveJoinTask: z.array(z.string()).optional(),
  dynamicForkTasksParam: z.string().optional(),
  dynamicForkTasksInputParamName: z.string().optional(),
  loopCondition: z.string().optional(),
  loopOver: z.array(Task).optional(),
  subWorkflowParam: z.looseObject({ name: z.string().optional(), version: z.number().optional(), workflowDefinition: z.unknown().optional() }).optional(),
  sink: z.string().optional(),
  taskDefinition: Params.optional(),
}));

export const WorkflowDefSchema = z.looseObject({
  name: z.string({ error: 'a Conductor workflow needs a name (a string)' }).min(1),
  description: z.string().optional(),
  version: z.number().optional(),
  tasks: z.array(Task, { error: 'a Conductor workflow needs tasks (a list)' }),
  inputParameters: z.array(z.string()).optional(),
  inputTemplate: Params.optional(),
  outputParameters: Params.optional(),
  failureWorkflow: z.string().optional(),
  timeoutSeconds: z.number().optional(),
  timeoutPolicy: z.string().optional(),
  variables: Params.optional(),
});
export type WorkflowDef = z.infer<typeof WorkflowDefSchema>;
