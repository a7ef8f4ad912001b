/**
 * What a person's command does on a NATS cluster: start, status, a decision, a signal, run control and
 * resume, published as the user it connects as. How it works: ./NOTES.md.
 */
export { ClusterClient } from './client.js';
export { takeQueuedInputs } from './queued-inputs.js';
export { archivedRun, deliverInput, engineListening, lastSeqIfReadable } from './run-inputs.js';
export {
  freshRunId,
  requestDeploy,
  requestLimits,
  requestStart,
  requestUpkeep,
  type RequestOutcome,
} from './requests.js';
