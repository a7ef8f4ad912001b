/**
 * ledgerflow's library API: load and validate definitions, compile them to
 * XState machines, and start, resume, approve, cancel and replay runs on an
 * event store. The CLI is a thin layer over exactly this.
 */
import { openStore, type EventStore } from './store/index.js';
import { Engine, type EngineOptions } from './runtime/index.js';
import { writeOutputFile } from './api/index.js';

export * from './errors/index.js';
export { parseDefinition, definitionHash, definitionJsonSchema, parseDuration, type Definition, type TaskDef } from './definition/index.js';
export { compile, machineJson, type CompiledWorkflow } from './compiler/index.js';
export type { EventEnvelope, EventType, WorkflowStatus } from './events/index.js';
export { MemoryEventStore, FileEventStore, JetStreamEventStore, openStore, openJetStreamStore, type EventStore, type RunSummary } from './store/index.js';
export * from './runtime/index.js';
export { loadHandlerModule } from './workers/index.js';
export { loadDefinitionFile, writeOutputFile, type LoadedDefinition } from './api/index.js';

/** An engine on a store (default: the embedded file store in `.ledgerflow/` or LEDGERFLOW_STORE). */
export function createEngine(opts: Partial<EngineOptions> & { storeDir?: string } = {}): Engine {
  const store: EventStore = opts.store ?? openStore(opts.storeDir ? { dir: opts.storeDir } : {});
  return new Engine({ writeOutput: writeOutputFile, ...opts, store });
}
export * from './triggers/index.js';
