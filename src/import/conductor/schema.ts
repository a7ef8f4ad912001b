/**
 * The Conductor WorkflowDef JSON this importer reads: only the fields it maps are typed; everything else is kept loose
 * (Conductor exports carry many fields that mean nothing here, and they are ignored or noted, never an error).
 */
import { z } from 'zod';

const Params = z.record(z.string(), z.unknown());

const Task = z.looseObject({
  name: z.string().optional(),
  taskReferenceName: z.string({ error: 'every task needs a taskReferenceName (a string)' }).min(1),
  type: z.string({ error: 'every task needs a type (a string)' }).min(1),
  description: z.string().optional(),
  inputParameters: Params.optional(),
  optional: z.boolean().optional(),
  startDelay: z.number().optional(),
  retryCount: z.number().optional(),
  asyncComplete: z.boolean().optional(),
  // SWITCH / DECISION
  evaluatorType: z.string().optional(),
  expression: z.string().optional(),
  caseValueParam: z.string().optional(),
  caseExpression: z.string().optional(),
  get decisionCases() {
    return z.record(z.string(), z.array(Task)).optional();
  },
  get defaultCase() {
    return z.array(Task).optional();
  },
  // FORK_JOIN / JOIN
  get forkTasks() {
    return z.array(z.array(Task)).optional();
  },
  joinOn: z.array(z.string()).optional(),
  defaultExclusiveJoinTask: z.array(z.string()).optional(),
  // FORK_JOIN_DYNAMIC
  dynamicForkTasksParam: z.string().optional(),
  dynamicForkTasksInputParamName: z.string().optional(),
  // DO_WHILE
  loopCondition: z.string().optional(),
  get loopOver() {
    return z.array(Task).optional();
  },
  // SUB_WORKFLOW
  subWorkflowParam: z
    .looseObject({
      name: z.string().optional(),
      version: z.number().optional(),
      workflowDefinition: z.unknown().optional(),
    })
    .optional(),
  // EVENT
  sink: z.string().optional(),
  taskDefinition: Params.optional(),
});
export type ConductorTask = z.infer<typeof Task>;

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
