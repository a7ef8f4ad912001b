/**
 * Incidents: what the built-in failure steps (log_to_incident,
 * notify_commander, preserve_state) record of a failed run, and the runner
 * the executors perform them with.
 */
export { incidentRecord, incidentText, preservedRun, INCIDENT_HEADER, PRESERVED_EVENTS, type IncidentRecord } from './record.js';
export { FailureSteps, COMMANDER_ROLE, type FailureStepsOptions } from './steps.js';
