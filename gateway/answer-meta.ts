/** The serving facts of an answer (path, source, owner, freshness) in their wire form. */
import { AnswerMeta, DataSource, ServingPath } from '../proto/gen/carbon/v1/prediction_service.ts';
import { freshnessOf } from './freshness.ts';
import type { ModelAges } from './model-ages.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import type { OwnerAnswer, ServingPathName } from './owner-answer.ts';

const wirePath: Record<ServingPathName, ServingPath> = {
  local: ServingPath.SERVING_PATH_LOCAL,
  forwarded: ServingPath.SERVING_PATH_FORWARDED,
  degraded: ServingPath.SERVING_PATH_DEGRADED,
};

/** `prediction`: the one the answer carries (Predict's horizon), if any. */
export function answerMeta(a: OwnerAnswer, prediction: Prediction | undefined, nowMs: number, ages: ModelAges, stale: boolean): AnswerMeta {
  const version = prediction?.modelVersion;
  return {
    path: wirePath[a.path],
    degraded: a.path === 'degraded',
    source: a.fromActor ? DataSource.DATA_SOURCE_ACTOR : DataSource.DATA_SOURCE_ONLINE_STORE,
    freshness: freshnessOf(nowMs, a.features, prediction, version === undefined || version === 0 ? undefined : ages.trainedAtMs(version)),
    partition: a.partition,
    owner: a.owner,
    stale,
    degradedReason: a.degradation?.reason ?? '',
  };
}
