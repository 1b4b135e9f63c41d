/** ListModels: the registry's models of the commodities the tenant may read, newest first. */
import type { ModelStatus as RegistryStatus, ModelStore } from '../../actors/model/registry.ts';
import { ModelStatus, type ListModelsRequest, type ListModelsResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import type { Authenticator } from '../authenticator.ts';
import type { CallContext } from '../call-wrapper.ts';
import { GatewayError } from '../errors.ts';
import { remainingMs } from '../owner-answer.ts';
import { MAX_LIST_MODELS, modelsQuery } from '../requests.ts';
import { mayRead } from '../tenants.ts';
import { withTimeout } from '../with-timeout.ts';

const wireStatus: Record<RegistryStatus, ModelStatus> = {
  candidate: ModelStatus.MODEL_STATUS_CANDIDATE,
  active: ModelStatus.MODEL_STATUS_ACTIVE,
  shadow: ModelStatus.MODEL_STATUS_SHADOW,
  retired: ModelStatus.MODEL_STATUS_RETIRED,
  rejected: ModelStatus.MODEL_STATUS_REJECTED,
};

export function listModelsHandler(deps: { readonly models: Pick<ModelStore, 'list'>; readonly auth: Authenticator }) {
  return async (request: ListModelsRequest, ctx: CallContext): Promise<ListModelsResponse> => {
    const q = modelsQuery(request);
    if (q.commodity !== undefined) deps.auth.authorize(ctx.tenant, q.commodity, ctx.method);
    let summaries;
    try {
      summaries = await withTimeout(deps.models.list({ commodity: q.commodity, limit: q.commodity === undefined && ctx.tenant.commodities !== undefined ? MAX_LIST_MODELS : q.limit }), remainingMs(ctx), 'the model registry');
    } catch (err) {
      throw new GatewayError('STORE_UNAVAILABLE', `cannot read the model registry: ${(err as Error).message}; retry`);
    }
    return {
      models: summaries.filter((m) => mayRead(ctx.tenant, m.commodity)).slice(0, q.limit).map((m) => ({
        version: m.version,
        commodity: m.commodity,
        status: wireStatus[m.status],
        horizonTicks: m.horizonTicks,
        trainFromMs: m.trainFromMs,
        trainToMs: m.trainToMs,
        trainRows: m.trainRows,
        trainedAtMs: m.trainedAtMs,
        sizeBytes: m.sizeBytes,
        metricsJson: JSON.stringify(m.metrics),
        family: m.family,
      })),
    };
  };
}
