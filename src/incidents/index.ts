/**
 * Incidents: what the built-in failure steps (log_to_incident, notify_commander, preserve_state) record of a failed
 * run, and the runner the executors perform them with.
 */
export type { IncidentRecord } from './record.js';
export { FailureSteps, type FailureStepsOptions } from './steps.js';
