/**
 * Distribution shift of a forecaster's inputs and outcomes: the population stability index (PSI) of the last
 * SHIFT_WINDOW live ticks against the training rows. Each input is binned by the deciles of its training values
 * (so each bin expects 10 %); the outcomes by where they fell among the champion's quantiles (the probability
 * integral transform, which expects each bin's share of probability: a calibrated forecaster's PIT is uniform).
 *
 * PSI = sum over bins of (a - e) ln(a / e); below 0.1 is the usual "no shift", above SHIFT_ALARM_PSI a shift
 * worth a retrain. With 500 independent outcomes over 10 bins, sampling noise alone gives about 0.02; inputs that
 * move slowly (moving-average ratios) are far from independent tick to tick, hence the long window.
 */
import { QUANTILE_LEVELS } from './distribution.ts';

export const SHIFT_WINDOW = 500;
export const SHIFT_ALARM_PSI = 0.25;

/** Decile edges (9 per input) of the training rows' model inputs. */
export type InputDeciles = readonly (readonly number[])[];

export function inputDeciles(x: Float64Array, nFeatures: number, start: number, end: number): number[][] {
  const n = end - start;
  return Array.from({ length: nFeatures }, (_, f) => {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = x[(start + i) * nFeatures + f]!;
    v.sort();
    return Array.from({ length: 9 }, (_, d) => v[Math.min(n - 1, Math.floor(((d + 1) * n) / 10))]!);
  });
}

/** Index of the first edge above v (0..edges.length). */
export function binOf(edges: readonly number[], v: number): number {
  let b = 0;
  while (b < edges.length && v >= edges[b]!) b++;
  return b;
}

/** Expected share of each PIT bin: between consecutive quantile levels, and the two tails. */
export const PIT_EXPECTED: readonly number[] = [...QUANTILE_LEVELS, 1].map((level, i) => level - (i === 0 ? 0 : QUANTILE_LEVELS[i - 1]!));

/** PSI of observed bin counts against expected shares; empty bins are smoothed by half a count. */
export function populationStabilityIndex(counts: ArrayLike<number>, expected: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return 0;
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Math.max(counts[i]!, 0.5) / total;
    const e = expected[i]!;
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

const UNIFORM_DECILES: readonly number[] = new Array<number>(10).fill(0.1);

/** The bins of the last SHIFT_WINDOW observations of each series (inputs, then the PIT), and their PSI. */
export class ShiftMonitor {
  private readonly inputBins: Uint8Array[];
  private readonly pitBins = new Uint8Array(SHIFT_WINDOW);
  private inputsSeen = 0;
  private pitSeen = 0;

  constructor(private readonly deciles: InputDeciles) {
    this.inputBins = deciles.map(() => new Uint8Array(SHIFT_WINDOW));
  }

  observeInputs(inputs: ArrayLike<number>): void {
    const at = this.inputsSeen % SHIFT_WINDOW;
    this.deciles.forEach((edges, f) => {
      this.inputBins[f]![at] = binOf(edges, inputs[f]!);
    });
    this.inputsSeen++;
  }

  /** An outcome y against the quantiles forecast for it. */
  observeOutcome(quantiles: ArrayLike<number>, y: number): void {
    let b = 0;
    while (b < QUANTILE_LEVELS.length && y > quantiles[b]!) b++;
    this.pitBins[this.pitSeen % SHIFT_WINDOW] = b;
    this.pitSeen++;
  }

  /** PSI per input (in input order) and of the PIT; undefined for a series that has not filled its window yet. */
  psi(): { inputs: (number | undefined)[]; outcomes: number | undefined } {
    return {
      inputs: this.inputBins.map((bins) => (this.inputsSeen < SHIFT_WINDOW ? undefined : populationStabilityIndex(countBins(bins, 10), UNIFORM_DECILES))),
      outcomes: this.pitSeen < SHIFT_WINDOW ? undefined : populationStabilityIndex(countBins(this.pitBins, PIT_EXPECTED.length), PIT_EXPECTED),
    };
  }
}

function countBins(bins: Uint8Array, k: number): Float64Array {
  const counts = new Float64Array(k);
  for (const b of bins) counts[b] = counts[b]! + 1;
  return counts;
}
