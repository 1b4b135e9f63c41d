/**
 * Requests as the handlers use them: validated and converted from the proto types once, here. Every failure is
 * INVALID_ARGUMENT naming the field (`commodity`, `horizon_ticks`, ...) and what it must be.
 */
import { COMMODITY_ID_PATTERN } from '../actors/ingest/commodity-id.ts';
import type { GetFeaturesRequest, ListModelsRequest, PredictRequest, StreamPredictionsRequest } from '../proto/gen/carbon/v1/prediction_service.ts';
import { invalidArgument } from './errors.ts';

export const MAX_HORIZON_TICKS = 365;
export const MAX_STREAM_COMMODITIES = 256;
export const MAX_LIST_MODELS = 1_000;

export interface PredictQuery {
  readonly commodity: string;
  readonly horizonTicks: number | undefined;
  readonly acceptStale: boolean;
}

export interface ModelsQuery {
  readonly commodity: string | undefined;
  readonly limit: number;
}

export function commodityId(value: string, field = 'commodity'): string {
  if (value === '') throw invalidArgument(field, 'required: a commodity id such as WTI');
  if (!COMMODITY_ID_PATTERN.test(value)) {
    throw invalidArgument(field, `${JSON.stringify(value.slice(0, 40))} is not a commodity id: 1-32 characters A-Z, 0-9 or _, starting with a letter (e.g. WTI, HENRY_HUB)`);
  }
  return value;
}

export function predictQuery(r: PredictRequest): PredictQuery {
  const commodity = commodityId(r.commodity);
  const h = r.horizonTicks;
  if (h !== undefined && !(h >= 1 && h <= MAX_HORIZON_TICKS)) throw invalidArgument('horizon_ticks', `must be 1..${MAX_HORIZON_TICKS} ticks (or absent for 1), got ${h}`);
  return { commodity, horizonTicks: h, acceptStale: r.acceptStale };
}

/** The horizon asked for (absent: 1), which must be one the platform serves. */
export function servedHorizon(horizonTicks: number | undefined, served: readonly number[]): number {
  const h = horizonTicks ?? 1;
  if (!served.includes(h)) throw invalidArgument('horizon_ticks', `${h} is not a served horizon; the served ones are ${served.join(', ')} ticks (absent means 1)`);
  return h;
}

export function featuresQuery(r: GetFeaturesRequest): string {
  return commodityId(r.commodity);
}

/** The commodities a stream follows; empty means all the tenant may read. */
export function streamQuery(r: StreamPredictionsRequest): readonly string[] {
  if (r.commodities.length > MAX_STREAM_COMMODITIES) throw invalidArgument('commodities', `at most ${MAX_STREAM_COMMODITIES} per stream (empty follows all), got ${r.commodities.length}`);
  return [...new Set(r.commodities.map((c, i) => commodityId(c, `commodities[${i}]`)))];
}

export function modelsQuery(r: ListModelsRequest): ModelsQuery {
  const commodity = r.commodity === '' ? undefined : commodityId(r.commodity);
  if (r.limit < 0 || r.limit > MAX_LIST_MODELS) throw invalidArgument('limit', `must be 0 (default 100) to ${MAX_LIST_MODELS}, got ${r.limit}`);
  return { commodity, limit: r.limit === 0 ? 100 : r.limit };
}
