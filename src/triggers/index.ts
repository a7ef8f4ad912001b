/**
 * Event triggers: an incoming event starts a run of every workflow whose
 * trigger matches it, exactly once per event id. The pure core (envelope,
 * schemas, match, admit) decides; emit.ts, catalog.ts and deadletter.ts are
 * the embedded-store edge. This file is the module's only import surface.
 */
export { EventEnvelopeIn, parseEventEnvelope, type TriggerEvent } from './envelope.js';
export { parseEventTypeFile, checkEventData, EventTypeFileError, type EventTypeSpec } from './schemas.js';
export { matchTriggers, runIdForEvent, isTriggered, type TriggerMatch } from './match.js';
export { admitEvent, type Admission, type RejectionStage, type TriggerCatalog } from './admit.js';
export { loadTriggerCatalog, loadEventTypes, defaultDir, scheduledDir, NO_SCHEDULES, bundledDir, type LoadedCatalog, type SkippedDefinition } from './catalog.js';
export { catalogReader } from './catalog-reader.js';
export { fileDeadLetters, deadLetterDir, type DeadLetter, type DeadLetterSink } from './deadletter.js';
export { emitEvent, type EmitOptions, type EmitResult, type EmittedRun, type GatedOutcome } from './emit.js';
export {
  arrive, tick as tickGate, nextDue, settle, GateRecordSchema, GateStateSchema, GATE_DECISIONS, MAX_ABSORBED_NAMED, MAX_QUEUED,
  type GateRecord, type GateState, type GateSpec, type GatedEvent, type Arrival, type GateDecision,
} from './gate.js';
export { TriggerGates, gateEntryKey, gateKeyOf, isGated, type GateStore, type GateLog, type GatedStart, type StartGated, type GateWaiting, type TriggerGatesOptions } from './gates.js';
export { FileGateStore, FileGateLog, fileGates, embeddedGates, gatesDir } from './gate-file.js';
export { taskEmitter, type TaskEmitterOptions, type EmitOutput } from './emit-task.js';
export { diskChildren, diskEngine, type DiskChildrenOptions } from './disk-children.js';
export {
  slotsBetween, nextSlots, dueSlots, runIdForSchedule, scheduleKey, schedulesOf, slotStamp, localTime, catchUpOf,
  MAX_FIRE_PER_TICK, MAX_MISSED_NAMED, MAX_MISSED_COUNTED, DEFAULT_GRACE_MS, type Due, type Firing, type ScheduleSpec,
} from './schedule.js';
export {
  Scheduler, MemoryScheduleCursor, engineStarter, ScheduleCursorEntrySchema, unclaimed,
  type ScheduleCursor, type ScheduleCursorEntry, type PendingFiring, type ScheduledStart, type StartScheduled, type SchedulerOptions, type FireReport, type FiredSlot, type MissedSlots, type FailedSlot,
} from './scheduler.js';
export { FileScheduleCursor, scheduleCursorFile, SCHEDULES_FILE, embeddedScheduler, embeddedScheduleAction } from './schedule-file.js';
export { scheduleRows, type ScheduleRow } from './schedule-rows.js';
export {
  controlSchedules, scheduleTargets, pauseSchedules, resumeSchedules, triggerSchedule, backfillSchedules, runIdForManual, MAX_BACKFILL_SLOTS,
  type ScheduleAction, type ScheduleActionResult, type ScheduleControlOptions, type ScheduleTarget, type ScheduleState, type QueuedSlot, type BackfillResult,
} from './schedule-control.js';
