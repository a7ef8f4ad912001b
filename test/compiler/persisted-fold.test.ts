/**
 * Snapshots kept as data (KV snapshots of long runs) must fold on exactly as
 * the snapshot they were taken from: same value, context, and entry order of
 * the regions, which decides the order of eventless transitions. Each random
 * run is cut at a random event, persisted through JSON text, restored, and
 * both copies take the rest of the run's events.
 */
import { describe, expect, it } from 'vitest';
import { compile, SnapshotMismatchError, type FoldSnapshot, type MachineEvent } from '../../src/compiler/index.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import { DEFINITIONS } from './corpus.js';
import { prng, RandomEvents } from './random-events.js';

const RUNS_PER_DEFINITION = 40;
const EVENTS_PER_RUN = 120;

/** Everything a snapshot is, as comparable text: value, status, context and the entry order. */
const fingerprint = (s: FoldSnapshot) =>
  JSON.stringify([
    s.value,
    s.status,
    s.context,
    s._configuration?.entered.map((r) => r.key) ?? null,
    s._configuration?.finals ?? null,
  ]);

describe('a persisted snapshot folds on as the original', () => {
  describe.each(DEFINITIONS)('%s', (name, def) => {
    const { interpreter } = compile(def);

    it('restored from JSON at a random event, it takes the rest of the run identically', () => {
      const seed = [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193), 0x9e3779b9);
      const rng = prng(seed);
      const plan = planDecisions(def, baseInput(def));
      const events = new RandomEvents(rng, def, outputVariants(def, plan), Date.parse('2026-03-01T09:00:00Z'));
      const inputs = inputVariants(baseInput(def), plan);
      let restoredMidRun = 0;
      for (let run = 0; run < RUNS_PER_DEFINITION; run++) {
        const label = `${name} (seed ${seed}, run ${run})`;
        let original = interpreter.initial({
          runId: `run-${run}`,
          workflowId: def.id,
          version: def.version,
          input: events.pick(inputs),
          time: Date.parse('2026-03-01T09:00:00Z'),
        });
        const history: MachineEvent[] = [];
        for (let n = 0; n < EVENTS_PER_RUN && original.status === 'active'; n++) {
          const ev = events.next(original.context);
          history.push(ev);
          original = interpreter.transition(original, ev);
        }
        // Replay the same events, cutting at a random point.
        const cut = Math.floor(rng() * (history.length + 1));
        let a = interpreter.initial({
          runId: `run-${run}`,
          workflowId: def.id,
          version: def.version,
          input: original.context.input,
          time: Date.parse('2026-03-01T09:00:00Z'),
        });
        for (const ev of history.slice(0, cut)) a = interpreter.transition(a, ev);
        const persisted = JSON.parse(JSON.stringify(interpreter.persist(a)));
        let b = interpreter.restore(persisted);
        expect(fingerprint(b), `${label}: restored at event ${cut}`).toBe(fingerprint(a));
        expect(interpreter.persist(b)).toEqual(persisted);
        if (a.status === 'active' && cut > 0) restoredMidRun++;
        for (const [k, ev] of history.slice(cut).entries()) {
          const [na, nb] = [interpreter.transition(a, ev), interpreter.transition(b, ev)];
          expect(nb === b, `${label}: event ${cut + k + 1} accepted by one copy only`).toBe(na === a);
          [a, b] = [na, nb];
          if (fingerprint(b) !== fingerprint(a))
            expect.fail(`${label}: after event ${cut + k + 1} the restored copy differs`);
        }
        expect(fingerprint(b)).toBe(fingerprint(original));
      }
      expect(restoredMidRun).toBeGreaterThan(RUNS_PER_DEFINITION / 4);
    });
  });

  it('refuses a snapshot that does not fit the chart, naming what is wrong', () => {
    const [, def] = DEFINITIONS.find(([n]) => n.endsWith('inventory-validation.yaml'))!;
    const { interpreter } = compile(def);
    const snap = interpreter.initial({ runId: 'r', workflowId: def.id, version: def.version, input: {}, time: 0 });
    const p = interpreter.persist(snap);
    const regions = (p.value as Record<string, Record<string, string>>).running!;
    const [first] = Object.keys(regions);
    expect(() => interpreter.restore({ ...p, value: { running: { ...regions, [first!]: 'nowhere' } } })).toThrow(
      new RegExp(`region ${first} has no state nowhere`),
    );
    expect(() => interpreter.restore({ ...p, entered: p.entered.slice(1) })).toThrow(
      /entry order must name every region once/,
    );
    expect(() => interpreter.restore({ ...p, value: 'exploded', status: 'done', entered: [] })).toThrow(
      /no final state exploded/,
    );
    const other = compile(DEFINITIONS.find(([n]) => n.endsWith('approval.yaml'))![1]).interpreter;
    expect(() => other.restore(p)).toThrow(SnapshotMismatchError);
  });
});
