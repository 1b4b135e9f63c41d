/**
 * StreamPredictions: live predictions of the followed commodities (all the tenant may read when none are
 * listed) until the client cancels, the deadline passes or the worker drains.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { StreamPredictionsRequest, StreamPredictionsResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';
import { answerMeta } from '../answer-meta.ts';
import type { Authenticator } from '../authenticator.ts';
import type { CallContext } from '../call-wrapper.ts';
import { GatewayError } from '../errors.ts';
import { isStale } from '../freshness.ts';
import type { ModelAges } from '../model-ages.ts';
import type { PredictionFeed } from '../prediction-feed.ts';
import { servedHorizon, streamQuery } from '../requests.ts';
import { mayRead } from '../tenants.ts';

/** Messages buffered for one stream beyond which updates wait for the client to read. */
const MAX_BUFFERED = 64;

export interface StreamDeps {
  readonly feed: PredictionFeed;
  readonly auth: Authenticator;
  readonly ages: ModelAges;
  readonly maxStalenessMs: number;
  /** Resolves when the worker starts draining. */
  readonly drained: Promise<void>;
  readonly horizons: readonly number[];
}

export function streamPredictionsHandler(deps: StreamDeps) {
  return async (call: ServerWritableStream<unknown, StreamPredictionsResponse>, request: StreamPredictionsRequest, ctx: CallContext): Promise<void> => {
    const listed = streamQuery(request);
    const horizonTicks = servedHorizon(request.horizonTicks, deps.horizons);
    for (const c of listed) deps.auth.authorize(ctx.tenant, c, ctx.method);
    ctx.path = 'local';
    let unsubscribe: () => void = () => undefined;
    const ended = new Promise<'client' | 'drain'>((resolve) => {
      call.once('cancelled', () => resolve('client'));
      call.once('close', () => resolve('client'));
      deps.drained.then(() => resolve('drain'), () => resolve('drain'));
      unsubscribe = deps.feed.subscribe({
        commodities: listed.length === 0 ? undefined : listed,
        allowed: (c) => mayRead(ctx.tenant, c),
        horizonTicks,
        deliver: (a, prediction) => {
          // A slow reader: skip this update (it is not marked sent, so the next poll offers the latest again).
          if (call.cancelled || call.writableLength >= MAX_BUFFERED) return false;
          const now = Date.now();
          call.write({ prediction, meta: answerMeta(a, prediction, now, deps.ages, isStale(prediction, now, deps.maxStalenessMs)) });
          return true;
        },
      });
    });
    const why = await ended;
    unsubscribe();
    if (why === 'drain') throw new GatewayError('DRAINING', 'this worker is draining (shutting down): open the stream again, another worker serves it');
  };
}
