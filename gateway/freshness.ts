/**
 * Freshness of an answer and the staleness rule, as pure functions of the clock: ages are `nowMs` minus a time,
 * floored at 0 (clocks of different workers disagree a little). A prediction is stale when the time since it
 * was made exceeds the bound: that measures the pipeline behind it, whatever the cadence of the source
 * (a daily price is hours old when it arrives; its prediction is fresh if made from it minutes ago).
 */
import type { Features } from '../proto/gen/carbon/v1/features.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import type { Freshness } from '../proto/gen/carbon/v1/prediction_service.ts';

function age(nowMs: number, atMs: number): number {
  return Math.max(0, nowMs - atMs);
}

export function freshnessOf(nowMs: number, features: Features | undefined, prediction: Prediction | undefined, modelTrainedAtMs: number | undefined): Freshness {
  const tickTsMs = prediction?.tickTsMs ?? features?.tsMs;
  return {
    asOfMs: nowMs,
    tickAgeMs: tickTsMs === undefined ? 0 : age(nowMs, tickTsMs),
    featuresAgeMs: features === undefined ? undefined : age(nowMs, features.tsMs),
    predictionAgeMs: prediction === undefined ? undefined : age(nowMs, prediction.predictedAtMs),
    modelAgeMs: modelTrainedAtMs === undefined ? undefined : age(nowMs, modelTrainedAtMs),
  };
}

export function isStale(prediction: Prediction, nowMs: number, maxStalenessMs: number): boolean {
  return age(nowMs, prediction.predictedAtMs) > maxStalenessMs;
}

/** `3h 02m 05s`, `1.250s`, `12ms`: ages in error messages. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(3)}s`;
  const s = Math.floor(ms / 1_000);
  const h = Math.floor(s / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s % 60)}s` : `${m}m ${pad(s % 60)}s`;
}
