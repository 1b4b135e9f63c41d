/** GetFeatures: the owning actor's latest features of one commodity. */
import type { GetFeaturesRequest, GetFeaturesResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import { answerMeta } from '../answer-meta.ts';
import type { Authenticator } from '../authenticator.ts';
import type { CallContext } from '../call-wrapper.ts';
import { GatewayError } from '../errors.ts';
import type { ModelAges } from '../model-ages.ts';
import { predictionAt } from '../owner-answer.ts';
import { featuresQuery } from '../requests.ts';
import type { Router } from '../router.ts';

export function getFeaturesHandler(deps: { readonly router: Router; readonly auth: Authenticator; readonly ages: ModelAges }) {
  return async (request: GetFeaturesRequest, ctx: CallContext): Promise<GetFeaturesResponse> => {
    const commodity = featuresQuery(request);
    deps.auth.authorize(ctx.tenant, commodity, ctx.method);
    const a = await deps.router.resolve(commodity, ctx);
    ctx.path = a.path;
    if (a.features === undefined) throw new GatewayError('UNKNOWN_COMMODITY', `no tick of ${commodity} was ever processed: check the id (ListCommodities lists the known ones)`);
    return { features: a.features, meta: answerMeta(a, predictionAt(a, 1), Date.now(), deps.ages, false) };
  };
}
