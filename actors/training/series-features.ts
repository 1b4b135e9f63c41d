/**
 * The feature vectors of a whole price series, tick by tick, exactly as a commodity actor computes them on the
 * stream (same window, same running tick count): the batch path to a feature store without the pipeline.
 */
import { computeFeatures, type FeatureVector } from '../features/compute-features.ts';
import { appendTick, DEFAULT_WINDOW_SIZE, emptyWindow, type PricePoint } from '../features/window.ts';

/** `ticks`: the commodity's whole history, oldest first (the tick count and the window start at its first tick). */
export function computeSeriesFeatures(ticks: readonly PricePoint[], windowSize: number = DEFAULT_WINDOW_SIZE): FeatureVector[] {
  let window = emptyWindow(windowSize);
  const out: FeatureVector[] = new Array(ticks.length);
  for (let i = 0; i < ticks.length; i++) {
    window = appendTick(window, ticks[i]!);
    out[i] = computeFeatures(window, i + 1);
  }
  return out;
}
