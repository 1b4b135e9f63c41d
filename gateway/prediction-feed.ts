/**
 * Live predictions for StreamPredictions: one poller per worker, whatever the number of streams. Every
 * `pollMs` it asks the owners (through the router, so forwarded or degraded like any call) for the commodities
 * that some stream follows, and hands each stream the predictions newer than the last it was sent (a new tick, a
 * new model), so that a stream never goes back in time.
 */
import type { Logger } from '../platform/logger.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import type { CommodityCatalog } from './commodity-catalog.ts';
import { predictionAt, type OwnerAnswer } from './owner-answer.ts';
import type { Router } from './router.ts';

export interface FeedSubscriber {
  /** The commodities followed; undefined: every known one that `allowed` accepts. */
  readonly commodities: readonly string[] | undefined;
  readonly allowed: (commodity: string) => boolean;
  /** The horizon of the predictions it follows. */
  readonly horizonTicks: number;
  /** Receives an answer and its prediction, not sent to this subscriber before; false: it cannot take more now. */
  readonly deliver: (answer: OwnerAnswer, prediction: Prediction) => boolean;
}

/**
 * Whether `p` is newer than `last` (the last one sent): a later tick, or the same tick predicted again later (a
 * new model). A degraded answer may carry an older stored prediction than one already sent: never sent again.
 */
export function isNewer(p: Prediction, last: Prediction | undefined): boolean {
  if (last === undefined) return true;
  return p.tickTsMs > last.tickTsMs || (p.tickTsMs === last.tickTsMs && p.predictedAtMs > last.predictedAtMs);
}

export class PredictionFeed {
  private readonly subscribers = new Map<FeedSubscriber, Map<string, Prediction>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly router: Router, private readonly catalog: CommodityCatalog, private readonly pollMs: number, private readonly log: Logger) {}

  /** Starts delivering to `s`; returns the function that stops it. */
  subscribe(s: FeedSubscriber): () => void {
    this.subscribers.set(s, new Map());
    this.schedule(0);
    return () => {
      this.subscribers.delete(s);
    };
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.subscribers.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.poll()
        .catch((err: unknown) => this.log.warn('gateway_feed_poll_failed', { err }))
        .finally(() => this.schedule(this.pollMs));
    }, delayMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const wanted = new Set<string>();
      let all: readonly string[] | undefined;
      for (const s of this.subscribers.keys()) {
        if (s.commodities === undefined) all ??= await this.catalog.list();
        for (const c of s.commodities ?? all ?? []) if (s.allowed(c)) wanted.add(c);
      }
      const budgetMs = Math.max(50, this.pollMs * 2);
      const answers = await Promise.all([...wanted].map((c) =>
        this.router.resolve(c, { deadlineMs: Date.now() + budgetMs }).catch((err: unknown) => {
          this.log.debug('gateway_feed_resolve_failed', { commodity: c, err });
          return undefined;
        })));
      for (const a of answers) {
        if (a === undefined) continue;
        for (const [s, sent] of this.subscribers) {
          const p = predictionAt(a, s.horizonTicks);
          if (p === undefined || !(s.commodities?.includes(p.commodity) ?? true) || !s.allowed(p.commodity) || !isNewer(p, sent.get(p.commodity))) continue;
          if (s.deliver(a, p)) sent.set(p.commodity, p);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
  }
}
