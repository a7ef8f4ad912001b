/**
 * Event triggers: an incoming event starts a run of every workflow whose trigger matches it, exactly once per event id.
 * The pure core (envelope, schemas, match, admit) decides; emit.ts, catalog.ts and deadletter.ts are the embedded-store
 * edge. This file is the module's only import surface.
 */
export { EventEnvelopeIn, parseEventEnvelope, type TriggerEvent } from './envelope.js';
export { parseEventTypeFile, EventTypeFileError, type EventTypeSpec } from './schemas.js';
export { matchTriggers, runIdForEvent } from './match.js';
export { admitEvent, type Admission, type RejectionStage, type TriggerCatalog } from './admit.js';
export {
  loadTriggerCatalog,
  loadEventTypes,
  defaultDir,
  scheduledDir,
  NO_SCHEDULES,
  type LoadedCatalog,
} from './catalog.js';
export { catalogReader } from './catalog-reader.js';
export { fileDeadLetters, deadLetterDir, type DeadLetter, type DeadLetterSink } from './deadletter.js';
export { emitEvent, type EmitOptions, type EmitResult, type EmittedRun } from './emit.js';
export {
  arrive,
  tick as tickGate,
  GateRecordSchema,
  GateStateSchema,
  type GateRecord,
  type GateState,
  type GateSpec,
} from './gate.js';
export { gatedOutcome } from './gates.js';
export { TriggerGates, isGated, type GateStore, type GateLog, type GatedStart, type GateWaiting } from './gates.js';
export { fileGates, embeddedGates } from './gate-file.js';
export { taskEmitter } from './emit-task.js';
export { diskChildren, diskEngine } from './disk-children.js';
export { slotStamp } from './schedule.js';
export { Scheduler } from './scheduler.js';
export {
  MemoryScheduleCursor,
  ScheduleCursorEntrySchema,
  type ScheduleCursor,
  type ScheduleCursorEntry,
} from './schedule-cursor.js';
export { engineStarter, type ScheduledStart, type StartScheduled } from './scheduled-start.js';
export { FileScheduleCursor, scheduleCursorFile, embeddedScheduler, embeddedScheduleAction } from './schedule-file.js';
export { scheduleRows, type ScheduleRow } from './schedule-rows.js';
export {
  controlSchedules,
  runIdForManual,
  type ScheduleAction,
  type ScheduleActionResult,
} from './schedule-control.js';
