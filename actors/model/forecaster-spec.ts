/**
 * Reading a forecaster's spec back from a model's stored params: the JSON is checked field by field, so a model
 * written by other code (or by hand) is refused with what is wrong instead of serving NaN.
 */
import { z } from 'zod';
import { QUANTILE_LEVELS } from '../forecast/distribution.ts';
import { FAMILIES, type ForecasterSpec } from '../forecast/forecaster.ts';
import { MODEL_INPUT_NAMES } from '../forecast/model-inputs.ts';

const finite = z.number().refine(Number.isFinite, 'must be finite');

const specSchema = z.object({
  family: z.enum(FAMILIES),
  horizonTicks: z.number().int().min(1),
  scale: z.object({ horizonTicks: z.number().int().min(1), weight: z.number().min(0).max(1), longRunVariance: finite.refine((v) => v > 0, 'must be > 0') }),
  drift: finite,
  residuals: z.object({
    offsets: z.array(finite).length(QUANTILE_LEVELS.length),
    percentiles: z.array(finite).length(99),
    rows: z.number().int().min(1),
  }),
  probability: z.object({ intercept: finite, slope: finite }),
  inputNames: z.array(z.string()),
  inputDeciles: z.array(z.array(finite).length(9)).length(MODEL_INPUT_NAMES.length),
  direction: z.object({ pesaranTimmermannP: finite.nullable() }).optional(),
  skill: z
    .object({
      rows: z.number().int(),
      pinballRatio: finite,
      intervalScoreRatio: finite,
      mase: finite,
      brier: finite,
      directionalAccuracy: finite,
      pesaranTimmermannP: finite.nullable(),
      intervalCoverage: finite,
    })
    .optional(),
});

/** The spec of stored params ({ forecaster: spec, ... }), or what is wrong with it. */
export function readForecasterSpec(params: unknown): ForecasterSpec | string {
  const forecaster = (params as { forecaster?: unknown } | null)?.forecaster;
  if (forecaster === undefined) return 'its params hold no forecaster spec';
  const parsed = specSchema.safeParse(forecaster);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `forecaster.${issue.path.join('.')}: ${issue.message}`;
  }
  const spec = parsed.data;
  const inputsOk = spec.inputNames.length === 0 || (spec.inputNames.length === MODEL_INPUT_NAMES.length && spec.inputNames.every((n, i) => n === MODEL_INPUT_NAMES[i]));
  if (!inputsOk) return `trained on inputs [${spec.inputNames.join(', ')}]; this code computes [${MODEL_INPUT_NAMES.join(', ')}]`;
  return { ...spec, direction: spec.direction, skill: spec.skill };
}
