/**
 * A commodity actor's state and its pure transition: a tick in, the next state and the tick's features out.
 */
import { computeFeatures, type FeatureVector } from '../features/compute-features.ts';
import { appendTick, emptyWindow, fromTicks, type PricePoint, type TickWindow } from '../features/window.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { noOutcomes, type LiveOutcomes } from './live-outcomes.ts';

export interface CommodityState {
  readonly commodity: string;
  /** False until the window was rebuilt from the stores (first tick after a spawn or a restart). */
  readonly rebuilt: boolean;
  readonly window: TickWindow;
  readonly tickCount: number;
  readonly latestFeatures: FeatureVector | undefined;
  /** The latest tick processed (a new champion forecasts it at once). */
  readonly latestTick: PriceTick | undefined;
  /** The latest prediction of each horizon that has one. */
  readonly latestPredictions: ReadonlyMap<number, Prediction>;
  /** Why the latest tick has no prediction at a horizon that has a champion. */
  readonly noForecast: ReadonlyMap<number, string>;
  /** Predictions waiting for their realized outcome, and the live hit and coverage counts. */
  readonly outcomes: LiveOutcomes;
}

export function initialState(commodity: string, windowSize: number): CommodityState {
  return {
    commodity,
    rebuilt: false,
    window: emptyWindow(windowSize),
    tickCount: 0,
    latestFeatures: undefined,
    latestTick: undefined,
    latestPredictions: new Map(),
    noForecast: new Map(),
    outcomes: noOutcomes,
  };
}

/** What the stores and the ledger say came before the first tick to process. */
export interface History {
  /** Ticks before that tick, oldest first, possibly overlapping (Postgres and the ledger): deduplicated here. */
  readonly ticks: readonly PricePoint[];
  /** Ticks seen for the commodity up to and including the newest of `ticks`. */
  readonly tickCount: number;
}

export function rebuiltState(state: CommodityState, history: History): CommodityState {
  const byTs = new Map<number, PricePoint>();
  for (const t of history.ticks) byTs.set(t.tsMs, t);
  const ticks = [...byTs.values()].sort((a, b) => a.tsMs - b.tsMs).slice(-state.window.size);
  return { ...state, rebuilt: true, window: fromTicks(ticks, state.window.size), tickCount: history.tickCount };
}

export type TickResult =
  | { readonly kind: 'applied'; readonly state: CommodityState; readonly features: FeatureVector }
  /**
   * At or before the newest tick, so not a new one (past-ticks.ts judges it): `beforeWindow` when it is older than
   * every tick of the window, where only the stores know what is stored at its time; else `windowPrice`, the price
   * of the window's tick at its time, undefined when there is none.
   */
  | { readonly kind: 'past'; readonly latestTsMs: number; readonly beforeWindow: boolean; readonly windowPrice: number | undefined };

export function applyTick(state: CommodityState, tick: PricePoint): TickResult {
  const ticks = state.window.ticks;
  const last = ticks[ticks.length - 1];
  if (last && tick.tsMs <= last.tsMs) {
    const beforeWindow = tick.tsMs < (ticks[0] as PricePoint).tsMs;
    return { kind: 'past', latestTsMs: last.tsMs, beforeWindow, windowPrice: ticks.find((t) => t.tsMs === tick.tsMs)?.price };
  }
  const window = appendTick(state.window, tick);
  const tickCount = state.tickCount + 1;
  const features = computeFeatures(window, tickCount);
  return { kind: 'applied', state: { ...state, window, tickCount, latestFeatures: features }, features };
}
