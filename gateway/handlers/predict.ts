/** Predict: the owning actor's latest prediction of one commodity, or the reason there is none a caller can act on. */
import type { PredictRequest, PredictResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import type { Authenticator } from '../authenticator.ts';
import { answerMeta } from '../answer-meta.ts';
import type { CallContext } from '../call-wrapper.ts';
import { GatewayError, invalidArgument } from '../errors.ts';
import { formatAge, isStale } from '../freshness.ts';
import type { ModelAges } from '../model-ages.ts';
import { predictQuery } from '../requests.ts';
import type { Router } from '../router.ts';

export interface PredictDeps {
  readonly router: Router;
  readonly auth: Authenticator;
  readonly ages: ModelAges;
  readonly maxStalenessMs: number;
}

export function predictHandler(deps: PredictDeps) {
  return async (request: PredictRequest, ctx: CallContext): Promise<PredictResponse> => {
    const q = predictQuery(request);
    deps.auth.authorize(ctx.tenant, q.commodity, ctx.method);
    const a = await deps.router.resolve(q.commodity, ctx);
    ctx.path = a.path;
    const p = a.prediction;
    if (p === undefined) {
      if (a.features === undefined) throw new GatewayError('UNKNOWN_COMMODITY', `no tick of ${q.commodity} was ever processed: check the id (ListCommodities lists the known ones)`);
      if (a.path === 'degraded') {
        throw new GatewayError('OWNER_UNAVAILABLE', `the owner of ${q.commodity} (partition ${a.partition}) could not answer (${a.degradation?.reason}) and the online store holds no prediction of it: retry (partitions move within seconds)`);
      }
      if (a.modelVersion === 0) {
        throw new GatewayError('NO_MODEL', `no model in service for ${q.commodity} yet: train and promote one (carbon train); predictions start with the next tick after that`);
      }
      throw new GatewayError('NO_PREDICTION_YET', `model v${a.modelVersion} serves ${q.commodity} but has made no prediction yet (${a.features.tickCount} ticks so far; its inputs need a full feature window): retry after more ticks`);
    }
    if (q.horizonTicks !== undefined && q.horizonTicks !== p.horizonTicks) {
      throw invalidArgument('horizon_ticks', `the model in service for ${q.commodity} (v${p.modelVersion}) predicts ${p.horizonTicks} tick(s) ahead, got ${q.horizonTicks}; omit it for the model's horizon`);
    }
    const now = Date.now();
    const stale = isStale(p, now, deps.maxStalenessMs);
    if (stale && !q.acceptStale) {
      throw new GatewayError('STALE', `the latest prediction of ${q.commodity} is ${formatAge(now - p.predictedAtMs)} old (made at ${new Date(p.predictedAtMs).toISOString()}), beyond the ${formatAge(deps.maxStalenessMs)} bound: set accept_stale to take it anyway`);
    }
    return { prediction: p, modelVersionInService: a.modelVersion, meta: answerMeta(a, now, deps.ages, stale) };
  };
}
