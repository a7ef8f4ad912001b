/**
 * The NATS engine's side of concurrency limits (limits/admission.ts decides, under the store's KV lock shared by every
 * engine and client): the engine that commits a run's settle admits the queued runs its slot lets in and kicks each on
 * lf.inputs (durable, any engine takes it), where its first tasks start as any kicked run's do.
 *
 * An engine can die between appending a settle and admitting (the input that settled the run is redelivered, but to a
 * run already settled, which takes no more inputs), or between admitting and kicking. Nothing else would look at that
 * (workflow, key) again until its next start or settle, so every engine sweeps: at start (taking over from one that
 * died) and every `everyMs`, each workflow with `concurrency:` is looked over for QUEUED runs whose key has a free slot
 * (admitted and kicked), and admitted runs that nothing has started yet (kicked again; a kick already sent is dropped
 * by its message id). The sweep decides under the same lock as a settle, so an engine that sweeps while another admits
 * admits nothing twice.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Definition } from '../../definition/index.js';
import { admitWaiting, concurrencyKey } from '../../limits/index.js';
import { foldEvents, step } from '../../runtime/index.js';
import type { EventStore, WrittenCommit } from '../../store/index.js';
import { everyUntilStopped, type Lifecycle } from './inbox.js';
import type { Loaded } from './run-host.js';
import { ENGINE_SENDER, subjects, kickBody, type InputMessage } from '../transport/index.js';
import { errorMessage } from '../../errors/index.js';
import { recordedDefinitionOf } from '../../events/index.js';
import { evaluateLoaded } from '../../executor/index.js';

interface AdmissionHost {
  store: EventStore;
  js: JetStreamClient;
  now: () => number;
  log: (line: string) => void;
}

/** How often an engine sweeps for queued runs a lost engine left behind (a safety net: a settle admits at once). */
export const ADMISSION_SWEEP_MS = 30_000;

const clockOf = (o: AdmissionHost) => ({ now: o.now, setTimer: () => 0, clearTimer: () => {} });

/**
 * Kicks a run on lf.inputs (any engine takes it), written once per `msgID` when one is given. An admission's kick has
 * one (two engines admitting the same run send one kick); the sweep's are each new: a kick the sweep sends because
 * nothing started must not be dropped as a duplicate of the one that did not help. `started`: a fresh start's kick.
 */
export async function kickRun(
  js: JetStreamClient,
  runId: string,
  msgID?: string,
  started = false,
  first?: WrittenCommit,
): Promise<void> {
  const msg: InputMessage = { type: 'kick', runId, ...(started ? { started: true as const } : {}) };
  await js.publish(subjects.input(ENGINE_SENDER, runId), kickBody(msg, first), msgID ? { msgID } : {});
}

export async function admitAfterSettle(o: AdmissionHost, runId: string, run: Loaded): Promise<void> {
  const def = run.compiled.definition;
  if (!def.concurrency) return;
  const admitted = await admitWaiting(o.store, clockOf(o), def, concurrencyKey(def, run.snapshot.context.input), {
    by: 'engine',
    settled: runId,
  });
  for (const id of admitted) {
    await kickRun(o.js, id, `${id}/admitted`);
    o.log(`run ${id} admitted: run ${runId} settled and freed its concurrency slot`);
  }
}

/** One sweep of `workflows` (the deployed ones; those without `concurrency:` are skipped). Returns the runs admitted or kicked again. */
export async function sweepAdmissions(o: AdmissionHost, workflows: readonly Definition[]): Promise<string[]> {
  const moved: string[] = [];
  for (const latest of workflows) {
    if (!latest.concurrency) continue;
    const runs = await o.store.listRuns({ workflowId: latest.id });
    // Admitted and nothing since (run.admitted its last event, after refused inputs too), though a commit
    // would start its first tasks: its kick was lost or judged too early. (A run whose first task waits
    // for a person has nothing to start.)
    for (const r of runs.filter((x) => x.status === 'RUNNING' && x.lastSeq >= 3)) {
      const [last] = await o.store.read(r.runId, { fromSeq: r.lastSeq });
      if (last?.type !== 'run.admitted') continue;
      const events = await o.store.read(r.runId);
      // A large payload the fold or the step reads is loaded first (the store's blobs read none synchronously).
      const started = await evaluateLoaded(o.store.blobs?.(), () => {
        const { compiled, snapshot, seq } = foldEvents(events);
        return step(compiled, snapshot, seq, [], o.now()).events.length > 0;
      });
      if (!started) continue;
      await kickRun(o.js, r.runId, `${r.runId}/admitted/swept-${o.now()}`);
      moved.push(r.runId);
      o.log(`run ${r.runId} kicked by the admission sweep: admitted, and nothing started since`);
    }
    // Each (recorded definition, key) with a queued run once: the queued runs' own definitions say their limit and key.
    const seen = new Set<string>();
    for (const q of runs.filter((x) => x.status === 'QUEUED')) {
      const [first] = await o.store.read(q.runId, { toSeq: 1 });
      if (first?.type !== 'run.started') continue;
      const def = recordedDefinitionOf(first.data);
      if (!def.concurrency) continue;
      const key = concurrencyKey(def, first.data.input);
      const group = `${def.version}\u0000${key ?? ''}`;
      if (seen.has(group)) continue;
      seen.add(group);
      // Read from the logs (no settled run named): a sweep also repairs the slot document.
      for (const id of await admitWaiting(o.store, clockOf(o), def, key, { by: 'engine' })) {
        await kickRun(o.js, id, `${id}/admitted`);
        moved.push(id);
        o.log(
          `run ${id} admitted by the admission sweep: its concurrency slot was free (an engine lost between a settle and its admissions?)`,
        );
      }
    }
  }
  return moved;
}

/** Sweeps at once (an engine starting may be taking over from one that died), then every `everyMs` until the engine stops. */
export function startAdmissionSweep(
  o: AdmissionHost & { workflows: () => Promise<Definition[]> },
  life: Lifecycle,
  everyMs = ADMISSION_SWEEP_MS,
): void {
  everyUntilStopped(
    life,
    everyMs,
    async () => sweepAdmissions(o, await o.workflows()),
    (err) => o.log(`admission sweep: ${errorMessage(err)}; trying again in ${everyMs} ms`),
  );
}
