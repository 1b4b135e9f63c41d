/**
 * The embedded platform's own price feed: one endless seeded synthetic series per commodity, stamped on the wall
 * clock. Its epoch is kept in the data folder, so a second start continues the same series where the stored
 * ticks end: the steps already stored are skipped, a recent gap is caught up at once, and the rest is paced in
 * real time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticTicks } from '../../actors/ingest/sources/synthetic-source.ts';
import type { TickPublisher } from '../../connectors/kafka/tick-publisher.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';

export interface FeedSettings {
  readonly seed: number;
  readonly commodities: number;
  /** Ticks per second over all commodities, once live. */
  readonly ratePerS: number;
  /** Steps of history before now that a first start publishes at once (what the first models train on). */
  readonly historySteps: number;
  /** AR(1) share of each move carried into the next: something for the models to learn. */
  readonly momentum: number;
}

interface Epoch {
  readonly seed: number;
  readonly commodities: number;
  readonly startMs: number;
  readonly intervalMs: number;
  readonly momentum: number;
  /** How far back a start publishes: the first start's history, or a restart's catch-up. */
  readonly historyWindowMs: number;
}

/** The series' epoch: read from the data folder, or fixed now (history steps back) and written there. */
export function loadOrCreateEpoch(dataDir: string, s: FeedSettings, nowMs: number): Epoch {
  const file = join(dataDir, 'synthetic-feed.json');
  if (existsSync(file)) {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Epoch;
    if (e.seed === s.seed && e.commodities === s.commodities && e.momentum === s.momentum) return e;
  }
  const intervalMs = Math.max(1, Math.round((1000 * s.commodities) / s.ratePerS));
  const historyWindowMs = s.historySteps * intervalMs;
  const epoch: Epoch = { seed: s.seed, commodities: s.commodities, startMs: nowMs - historyWindowMs, intervalMs, momentum: s.momentum, historyWindowMs };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(epoch, null, 2)}\n`);
  return epoch;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export interface FeedProgress {
  /** Ticks published before the feed went live (the history or the catch-up). */
  readonly caughtUp: number;
}

/**
 * Publishes the series until `signal` aborts: every tick not yet stored (after `lastStoredTsMs` of its commodity)
 * with a time up to now at once, then each tick when the clock reaches its time. `onLive` runs once, when the feed
 * has caught up with the clock.
 */
export async function runSyntheticFeed(
  epoch: Epoch,
  lastStoredTsMs: ReadonlyMap<string, number>,
  publisher: TickPublisher,
  signal: AbortSignal,
  onLive: (progress: FeedProgress) => Promise<void> | void,
): Promise<void> {
  const ticks = syntheticTicks({
    seed: epoch.seed,
    commodities: epoch.commodities,
    ticks: Number.MAX_SAFE_INTEGER,
    startMs: epoch.startMs,
    intervalMs: epoch.intervalMs,
    momentum: epoch.momentum,
  });
  let batch: PriceTick[] = [];
  let caughtUp = 0;
  let live = false;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await publisher.publish(batch);
    await publisher.flush();
    batch = [];
  };
  // A first start publishes the whole history; after a long stop only the last history window of missed steps
  // is caught up (older ones are skipped, a gap in the series like a market holiday).
  const oldestToPublishMs = lastStoredTsMs.size === 0 ? Number.NEGATIVE_INFINITY : Date.now() - epoch.historyWindowMs;
  for (const tick of ticks) {
    if (signal.aborted) break;
    if (tick.tsMs <= (lastStoredTsMs.get(tick.commodity) ?? Number.NEGATIVE_INFINITY)) continue;
    if (tick.tsMs < oldestToPublishMs) continue;
    if (tick.tsMs > Date.now()) {
      await flush();
      if (!live) {
        live = true;
        await onLive({ caughtUp });
      }
      const waitMs = tick.tsMs - Date.now();
      if (waitMs > 0) await sleep(waitMs, signal);
      if (signal.aborted) break;
    } else if (!live) {
      caughtUp++;
    }
    batch.push(tick);
    if (batch.length >= (live ? 1 : 5_000)) await flush();
  }
  await flush();
}
