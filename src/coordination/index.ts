/**
 * The coordination view: how workflows depend on one another (map.ts).
 * Pure; the CLI's `ledgerflow map` and the dashboard's coordination page show it.
 */
export { workflowMap, workflowMapText, type EdgeKind, type MapEdge, type MapWorkflow, type WorkflowMap } from './map.js';
export { fileAgentRows, workerRows, withBreakers, type AgentRow, type AgentLineSeen, type WorkerHeard } from './agents.js';
export { keepSamples, loadOf, utilizationOf, type LoadSample, type Utilization } from './load.js';
export { participationOf, type WorkflowParticipation } from './participation.js';
