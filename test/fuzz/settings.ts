/**
 * How much the fuzz tests do. Deterministic by default (a fixed seed, a fixed
 * number of cases) so CI is reproducible; `LEDGERFLOW_FUZZ_RUNS=5000` runs
 * more locally, `LEDGERFLOW_FUZZ_SEED=<n>` replays the seed a failure printed.
 */
import type fc from 'fast-check';

export function fuzzParams(defaultRuns: number, timeBudgetMs: number): fc.Parameters<unknown> {
  const runs = Number(process.env.LEDGERFLOW_FUZZ_RUNS ?? defaultRuns);
  const seed = Number(process.env.LEDGERFLOW_FUZZ_SEED ?? 20261122);
  const more = process.env.LEDGERFLOW_FUZZ_RUNS !== undefined;
  return {
    seed,
    numRuns: runs,
    // The default budget keeps CI quick; asking for more runs lifts it.
    ...(more ? {} : { interruptAfterTimeLimit: timeBudgetMs, markInterruptAsFailure: false }),
    // fast-check's report names the seed and the path of the shrunk counterexample: replay both with `seed`/`path`.
    verbose: 0,
    endOnFailure: false,
  };
}
