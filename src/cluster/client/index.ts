/**
 * What a person's command does on a NATS cluster: start, status, a decision, a signal, run control and
 * resume, published as the user it connects as. How it works: ./NOTES.md.
 */
export { ClusterClient, type ControlOutcome, type DecisionOutcome } from './client.js';
export { resumeOverCluster, type ClusterResume, type ClusterResumeOptions } from './resume.js';
export { deliverInput, engineListening, senderFor, type InputOutcome, type RunInput } from './run-inputs.js';
export { freshRunId, requestDeploy, requestLimits, requestStart, REQUEST_WAIT_MS, type RequestOutcome } from './requests.js';
