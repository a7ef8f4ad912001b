/**
 * The NATS engine's side of concurrency limits (executor/admission.ts
 * decides, under the store's KV lock shared by every engine and client): the
 * engine that commits a run's settle admits the queued runs its slot lets in
 * and kicks each on lf.inputs (durable, any engine takes it: one that dies
 * right after admitting leaves the kicks to the others), where its first
 * tasks start as any kicked run's do.
 */
import type { JetStreamClient } from 'nats';
import { admitWaiting, concurrencyKey } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import type { Loaded } from './run-host.js';
import { ENGINE_SENDER, subjects } from './subjects.js';
import { encode, type InputMessage } from './messages.js';

export async function admitAfterSettle(o: { store: EventStore; js: JetStreamClient; now: () => number; log: (line: string) => void }, runId: string, run: Loaded): Promise<void> {
  const def = run.compiled.definition;
  if (!def.concurrency) return;
  const clock = { now: o.now, setTimer: () => 0, clearTimer: () => {} };
  const admitted = await admitWaiting(o.store, clock, def, concurrencyKey(def, run.snapshot.context.input), 'engine');
  for (const id of admitted) {
    const kick: InputMessage = { type: 'kick', runId: id };
    await o.js.publish(subjects.input(ENGINE_SENDER, id), encode(kick), { msgID: `${id}/admitted` });
    o.log(`run ${id} admitted: run ${runId} settled and freed its concurrency slot`);
  }
}
