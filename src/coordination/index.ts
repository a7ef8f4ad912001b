/**
 * The coordination view: how workflows depend on one another (map.ts).
 * Pure; the CLI's `ledgerflow map` and the dashboard's coordination page show it.
 */
export { workflowMap, workflowMapText } from './map.js';
export { fileAgentRows, workerRows, withBreakers, type AgentRow } from './agents.js';
export { keepSamples, loadOf, utilizationOf, type LoadSample } from './load.js';
export { participationOf, type WorkflowParticipation } from './participation.js';
