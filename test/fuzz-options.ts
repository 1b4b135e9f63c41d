/**
 * How much the fuzz tests run: a seeded 10,000 cases per edge by default (what CI runs), more with
 * CARBON_FUZZ_RUNS for a soak (e.g. CARBON_FUZZ_RUNS=200000 npx ava test/fuzz-*.test.ts), another seed with
 * CARBON_FUZZ_SEED. A failure prints the seed and the counterexample's path, so that it can be run again as it was.
 */
import type { Parameters } from 'fast-check';

export const DEFAULT_FUZZ_RUNS = 10_000;
const DEFAULT_FUZZ_SEED = 17;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Cases per edge. */
export function fuzzRuns(): number {
  return positiveInteger('CARBON_FUZZ_RUNS', DEFAULT_FUZZ_RUNS);
}

export function fuzzSeed(): number {
  return positiveInteger('CARBON_FUZZ_SEED', DEFAULT_FUZZ_SEED);
}

/**
 * fast-check's parameters for one edge: the seed and the number of cases, no time limit (the cases are the point),
 * and the property's own error in the report (it says what was wrong with the answer, not only which case).
 */
export function fuzzParameters<T>(runs = fuzzRuns()): Parameters<T> {
  return { seed: fuzzSeed(), numRuns: runs, includeErrorInReport: true };
}

/** Timeout of a fuzz test for `runs` cases at about `msPerCase` each on a busy machine, plus `fixedMs` of set-up. */
export function fuzzTimeoutMs(runs: number, msPerCase: number, fixedMs: number): number {
  return fixedMs + runs * msPerCase;
}
