/** ListCommodities: the commodities that have had ticks, those the tenant may read, with their latest state. */
import type { OnlineStore } from '../../connectors/redis/online-store.ts';
import type { CommodityInfo, ListCommoditiesRequest, ListCommoditiesResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import type { CallContext } from '../call-wrapper.ts';
import type { CommodityCatalog } from '../commodity-catalog.ts';
import { GatewayError } from '../errors.ts';
import { remainingMs } from '../owner-answer.ts';
import type { Router } from '../router.ts';
import { mayRead } from '../tenants.ts';
import { withTimeout } from '../with-timeout.ts';

export function listCommoditiesHandler(deps: { readonly catalog: CommodityCatalog; readonly online: OnlineStore; readonly router: Router }) {
  return async (_request: ListCommoditiesRequest, ctx: CallContext): Promise<ListCommoditiesResponse> => {
    const work = (async () => {
      const ids = (await deps.catalog.list()).filter((c) => mayRead(ctx.tenant, c));
      return Promise.all(ids.map(async (commodity): Promise<CommodityInfo> => {
        const latest = await deps.online.getLatest(commodity);
        return {
          commodity,
          partition: deps.router.partitionOf(commodity),
          latestTickTsMs: latest.features?.tsMs ?? 0,
          tickCount: latest.features?.tickCount ?? 0,
          hasPrediction: latest.predictions.length > 0,
        };
      }));
    })();
    try {
      return { commodities: await withTimeout(work, remainingMs(ctx), 'the feature store and the online store') };
    } catch (err) {
      throw new GatewayError('STORE_UNAVAILABLE', `cannot list commodities: ${(err as Error).message}; retry`);
    }
  };
}
