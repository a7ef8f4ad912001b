/**
 * A task's status is one fact, the state its region is in: the context's
 * copy (which guards read) always equals the status STATUS_OF_STATE gives
 * that state, after every event of every run of the differential corpus.
 */
import { describe, expect, it } from 'vitest';
import { compile, type FoldSnapshot } from '../../src/compiler/index.js';
import { STATUS_OF_STATE, type RegionStateName } from '../../src/compiler/regions.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import { DEFINITIONS } from './corpus.js';
import { prng, RandomEvents } from './random-events.js';

const EVENTS_PER_DEFINITION = 1_000;

/** Task ids whose context status is not what their region's state says. */
function mismatches(s: FoldSnapshot): string[] {
  if (typeof s.value === 'string') return [];
  const regions = s.value.running!;
  return Object.keys(regions).filter(
    (task) => STATUS_OF_STATE[regions[task] as RegionStateName] !== s.context.tasks[task]!.status,
  );
}

describe('task status is the state its region is in', () => {
  it.each(DEFINITIONS)('%s: after every one of 1,000 seeded random events', (name, def) => {
    const compiled = compile(def);
    const plan = planDecisions(def, baseInput(def));
    const inputs = inputVariants(baseInput(def), plan);
    const rng = prng([...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193), 0x811c9dc5));
    const t0 = Date.parse('2026-03-01T09:00:00Z');
    const events = new RandomEvents(rng, def, outputVariants(def, plan), t0);
    let checked = 0;
    for (let run = 0; checked < EVENTS_PER_DEFINITION; run++) {
      let s = compiled.interpreter.initial({
        runId: `run-${run}`,
        workflowId: def.id,
        version: def.version,
        input: events.pick(inputs),
        time: t0 + run * 1000,
      });
      expect(mismatches(s)).toEqual([]);
      for (let n = 0; n < 120 && s.status === 'active'; n++, checked++) {
        s = compiled.interpreter.transition(s, events.next(s.context));
        expect(mismatches(s), `${name}, run ${run}, event ${n}`).toEqual([]);
      }
      // Once the run has ended, what had not settled is CANCELLED and the rest keep their final status.
      if (s.status === 'done')
        for (const t of Object.values(s.context.tasks))
          expect(['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED', 'CANCELLED']).toContain(t.status);
    }
  });
});
