/**
 * The fold's interpreter against XState itself: the same machine config, the
 * same events, and after every event the same value (key order included),
 * status, context (key order included) and the same answer to "was it
 * accepted". Sequences come from a seeded PRNG (the seed is in the failure
 * message) and from every path the coverage module generates.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  compile,
  xstateFold,
  type CompiledWorkflow,
  type FoldLogic,
  type FoldSnapshot,
  type MachineEvent,
  type MachineInput,
  type XStateRunSnapshot,
} from '../../src/compiler/index.js';
import { generatePaths } from '../../src/coverage/index.js';
import { MODEL_RUN_ID, MODEL_T0 } from '../../src/coverage/model.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import type { Definition } from '../../src/definition/index.js';
import { toMachineEvent } from '../../src/runtime/index.js';
import { DEFINITIONS } from './corpus.js';
import { prng, RandomEvents } from './random-events.js';

type Snap = { value: unknown; status: string; context: unknown; error?: unknown };

/** A snapshot's value and context as JSON text: equal text means equal values with keys in the same order. */
type Texts = { value: string; context: string };
const textsOf = (s: Snap): Texts => ({ value: JSON.stringify(s.value), context: JSON.stringify(s.context) });

/**
 * XState's snapshots, as text, by snapshot: XState returns the very snapshot
 * it was given for an event it does not take, and that one was already put
 * into text. (The interpreter's snapshots are put into text every time: one
 * it changed in place must not pass for the one it had.)
 */
const referenceTexts = new WeakMap<object, Texts>();
function referenceTextsOf(s: Snap): Texts {
  let t = referenceTexts.get(s);
  if (!t) referenceTexts.set(s, (t = textsOf(s)));
  return t;
}

/**
 * Why two snapshots differ, or null. Equal JSON text means equal values with
 * keys in the same order; `deep` also tells an undefined-valued key from a
 * missing one, at about the cost of the interpreter itself, so the random runs
 * ask for it once per run, not per event. Plain comparisons, not expect():
 * that on each of thousands of events would dominate the run time.
 */
function difference(reference: Snap, interpreted: Snap, deep: boolean): string | null {
  if (interpreted.status !== reference.status) return `status ${interpreted.status}, XState ${reference.status}`;
  const [it, xt] = [textsOf(interpreted), referenceTextsOf(reference)];
  if (it.value !== xt.value || !isDeepStrictEqual(interpreted.value, reference.value))
    return `value ${it.value}, XState ${xt.value}`;
  if (it.context !== xt.context || (deep && !isDeepStrictEqual(interpreted.context, reference.context)))
    return `context\n  ${it.context}\nXState\n  ${xt.context}`;
  if (String(interpreted.error) !== String(reference.error))
    return `error ${String(interpreted.error)}, XState ${String(reference.error)}`;
  return null;
}

/** One run folded through XState and the interpreter side by side. */
class Lockstep {
  private readonly reference: FoldLogic<XStateRunSnapshot>;
  private readonly interpreter: FoldLogic<FoldSnapshot>;
  x: XStateRunSnapshot;
  i: FoldSnapshot;
  steps = 0;

  /** `reference`: XState's fold of compiled.machine, built once for all the runs of a definition (it keeps nothing of a run). */
  constructor(
    compiled: Pick<CompiledWorkflow, 'machine' | 'interpreter'>,
    input: MachineInput,
    private readonly label: string,
    private readonly deep = true,
    reference: FoldLogic<XStateRunSnapshot> = xstateFold(compiled.machine),
  ) {
    this.reference = reference;
    this.interpreter = compiled.interpreter;
    this.x = this.reference.initial(input);
    this.i = this.interpreter.initial(input);
    this.expectSame('at start', true);
  }

  apply(event: MachineEvent): boolean {
    const x = this.reference.transition(this.x, event);
    const i = this.interpreter.transition(this.i, event);
    const accepted = x !== this.x;
    const where = `after event ${++this.steps} ${JSON.stringify(event)}`;
    if ((i !== this.i) !== accepted)
      expect.fail(`${this.label} ${where}: interpreter accepted ${i !== this.i}, XState ${accepted}`);
    this.x = x;
    this.i = i;
    this.expectSame(where, this.deep);
    return accepted;
  }

  expectSame(where: string, deep: boolean): void {
    const diff = difference(this.x, this.i, deep);
    if (diff) expect.fail(`${this.label} ${where}: interpreter ${diff}`);
  }
}

const inputOf = (def: Definition, runId: string, input: Record<string, unknown>, time: number): MachineInput => ({
  runId,
  workflowId: def.id,
  version: def.version,
  input,
  time,
});

// --- the tests ----------------------------------------------------------------------------------------

/**
 * Seeded, so every run of the suite checks the same events: a fixed sample beside the coverage paths (all of them are
 * checked), not a search that finds more the longer it runs. 2,000 took about 35 CPU-s of the suite's ~1,250 (2026-11-25).
 */
const EVENTS_PER_DEFINITION = 800;
/** A run that has not ended after this many events makes way for a new one (with another input and run id). */
const EVENTS_PER_RUN = 120;

describe('the interpreter folds exactly as XState does', () => {
  it('finds the definitions', () => {
    expect(DEFINITIONS.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'definitions/inventory-validation.yaml',
        'definitions/lead_qualification.yaml',
        'definitions/revenue_milestone.yaml',
        'test/fixtures/approval.yaml',
        'examples/inventory-validation.workflow.yaml',
      ]),
    );
  });

  describe.each(DEFINITIONS)('%s', (name, def) => {
    const compiled = compile(def);
    const reference = xstateFold(compiled.machine);

    it(`on ${EVENTS_PER_DEFINITION} seeded random events, after every one`, () => {
      const plan = planDecisions(def, baseInput(def));
      const inputs = inputVariants(baseInput(def), plan);
      const seed = [...name].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193), 0x811c9dc5);
      const rng = prng(seed);
      const events = new RandomEvents(rng, def, outputVariants(def, plan), Date.parse('2026-03-01T09:00:00Z'));
      const outcomes = new Map<string, number>();
      let total = 0;
      for (let run = 0; total < EVENTS_PER_DEFINITION; run++) {
        const start = Date.parse('2026-03-01T09:00:00Z') + run * 1000;
        const lock = new Lockstep(
          compiled,
          inputOf(def, `run-${run}`, events.pick(inputs), start),
          `${name} (seed ${seed}, run ${run})`,
          false,
          reference,
        );
        for (let n = 0; n < EVENTS_PER_RUN && lock.i.status === 'active'; n++, total++)
          lock.apply(events.next(lock.i.context));
        lock.expectSame(`at the end of run ${run}`, true);
        // A settled run takes nothing more, in both.
        if (lock.i.status !== 'active') expect(lock.apply(events.next(lock.i.context))).toBe(false);
        const outcome = typeof lock.i.value === 'string' ? lock.i.value : 'running';
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // Deep enough to reach every ending: the comparison means little on runs that never get far.
      expect([...outcomes.keys()].sort()).toEqual(expect.arrayContaining(['cancelled', 'completed', 'failed']));
    });

    it('on every path the coverage module generates', () => {
      const report = generatePaths(def);
      expect(report.paths.length).toBeGreaterThan(0);
      for (const path of report.paths) {
        const lock = new Lockstep(
          compiled,
          inputOf(def, MODEL_RUN_ID, path.input, Date.parse(MODEL_T0)),
          `${name}: path "${path.name}"`,
          true,
          reference,
        );
        for (const ev of path.events) {
          if (ev.type === 'approval.refused') continue;
          expect(lock.apply(toMachineEvent(ev)), `${path.name}: ${ev.type}`).toBe(true);
        }
      }
    });
  });

  it('fails at start-up as XState does: status error, with the thrown error', () => {
    const [, def] = DEFINITIONS[0]!;
    const lock = new Lockstep(compile(def), inputOf(def, 'r', {}, Number.NaN), 'invalid start time');
    expect(lock.i.status).toBe('error');
    expect(String(lock.i.error)).toMatch(/Invalid time value/);
  });
});
