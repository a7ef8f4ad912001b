/**
 * The definition fuzzer: schema-shaped definitions with hostile mutations,
 * rendered to YAML, validated, and run on the library API with virtual time.
 * See definition-oracle.ts for what every case must satisfy. Seeded and
 * bounded; LEDGERFLOW_FUZZ_RUNS / LEDGERFLOW_FUZZ_SEED run more or replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definitionCase } from './definition-arbitraries.js';
import { checkDefinition, script, type Outcome } from './definition-oracle.js';
import { fuzzParams } from './settings.js';

/** Each case must finish well within this (virtual time makes timers instant): longer is a stuck run. */
const CASE_LIMIT_MS = 10_000;

function within<T>(ms: number, work: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end within ${ms} ms (a stuck run or a loop): ${what()}`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

describe('definition fuzzer', () => {
  it('every definition is refused clearly or runs to a recorded end', async () => {
    const seen: Record<Outcome['kind'], number> = { refused: 0, 'not-runnable': 0, 'no-handler': 0, ran: 0 };
    const ends: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(definitionCase, script, async (c, s) => {
        const outcome = await within(CASE_LIMIT_MS, checkDefinition(c.text, s), () => c.mutations.join(', '));
        seen[outcome.kind]++;
        if (outcome.kind === 'ran') ends[outcome.view.status] = (ends[outcome.view.status] ?? 0) + 1;
      }),
      fuzzParams(300, 25_000),
    );
    // The generator must reach both sides of the contract, or it tests nothing.
    console.log('definition fuzzer:', JSON.stringify(seen), JSON.stringify(ends));
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.ran).toBeGreaterThan(0);
  }, 60_000);
});
