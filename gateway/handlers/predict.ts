/** Predict: the owning actor's latest prediction of one commodity at one horizon, or the reason there is none a caller can act on. */
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { PredictRequest, PredictResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import type { Authenticator } from '../authenticator.ts';
import { answerMeta } from '../answer-meta.ts';
import type { CallContext } from '../call-wrapper.ts';
import { championStatus } from '../champion-status.ts';
import { GatewayError } from '../errors.ts';
import { formatAge, isStale } from '../freshness.ts';
import type { ModelAges } from '../model-ages.ts';
import { horizonAt, predictionAt, remainingMs } from '../owner-answer.ts';
import { predictQuery, servedHorizon } from '../requests.ts';
import type { Router } from '../router.ts';
import { withTimeout } from '../with-timeout.ts';

export interface PredictDeps {
  readonly router: Router;
  readonly auth: Authenticator;
  readonly ages: ModelAges;
  readonly maxStalenessMs: number;
  readonly horizons: readonly number[];
  /** The registry, read only to say why a horizon has no champion. */
  readonly registry: SqlQuery;
}

export function predictHandler(deps: PredictDeps) {
  return async (request: PredictRequest, ctx: CallContext): Promise<PredictResponse> => {
    const q = predictQuery(request);
    const h = servedHorizon(q.horizonTicks, deps.horizons);
    deps.auth.authorize(ctx.tenant, q.commodity, ctx.method);
    const a = await deps.router.resolve(q.commodity, ctx);
    ctx.path = a.path;
    const p = predictionAt(a, h);
    const champion = horizonAt(a, h);
    if (p === undefined) {
      if (a.features === undefined) throw new GatewayError('UNKNOWN_COMMODITY', `no tick of ${q.commodity} was ever processed: check the id (ListCommodities lists the known ones)`);
      if (champion === undefined || champion.modelVersion === 0) {
        const status = await withTimeout(championStatus(deps.registry, q.commodity, h), remainingMs(ctx), 'the model registry').catch(
          (err: unknown) => ({ inService: a.path === 'degraded', reason: `the registry could not say why (${(err as Error).message})` }),
        );
        if (a.path === 'degraded' && status.inService) {
          throw new GatewayError('OWNER_UNAVAILABLE', `the owner of ${q.commodity} (partition ${a.partition}) could not answer (${a.degradation?.reason}) and the online store holds no prediction of it at ${h} tick(s): retry (partitions move within seconds)`);
        }
        throw new GatewayError('NO_MODEL', `no champion in service for ${q.commodity} at ${h} tick(s): ${status.reason}`);
      }
      if (champion.noForecastReason !== '') {
        throw new GatewayError('NO_PREDICTION_YET', `${q.commodity} has no forecast at its latest tick (${a.features.tickCount} ticks so far) from v${champion.modelVersion} at ${h} tick(s): ${champion.noForecastReason}; retry after the next tick`);
      }
      throw new GatewayError('NO_PREDICTION_YET', `v${champion.modelVersion} came into service for ${q.commodity} at ${h} tick(s) and no tick has arrived since on this owner: it forecasts the next one`);
    }
    const now = Date.now();
    const stale = isStale(p, now, deps.maxStalenessMs);
    if (stale && !q.acceptStale) {
      throw new GatewayError('STALE', `the latest prediction of ${q.commodity} is ${formatAge(now - p.predictedAtMs)} old (made at ${new Date(p.predictedAtMs).toISOString()}), beyond the ${formatAge(deps.maxStalenessMs)} bound: set accept_stale to take it anyway`);
    }
    return { prediction: p, modelVersionInService: champion?.modelVersion ?? p.modelVersion, meta: answerMeta(a, p, now, deps.ages, stale) };
  };
}
