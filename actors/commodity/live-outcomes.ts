/**
 * Live quality of the champions' predictions: each prediction waits for the tick `horizon` ticks later, then
 * counts as a hit when its direction was right and as covered when the realized log return fell inside its
 * interval, per horizon. Pure; the actor keeps the record in its state (it starts over after a restart).
 */
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { Direction } from '../../proto/gen/carbon/v1/prediction.ts';

interface Awaiting {
  readonly dueTickCount: number;
  readonly prediction: Prediction;
}

export interface OutcomeCounts {
  readonly realized: number;
  readonly hits: number;
  readonly covered: number;
}

export interface LiveOutcomes {
  readonly awaiting: readonly Awaiting[];
  readonly byHorizon: ReadonlyMap<number, OutcomeCounts>;
}

export const noOutcomes: LiveOutcomes = { awaiting: [], byHorizon: new Map() };

/** Records the prediction made at tick number `tickCount`. */
export function awaitOutcome(o: LiveOutcomes, prediction: Prediction, tickCount: number): LiveOutcomes {
  return { ...o, awaiting: [...o.awaiting, { dueTickCount: tickCount + prediction.horizonTicks, prediction }] };
}

/** Settles every prediction due at tick number `tickCount`, whose price is `price`; `o` itself when none is due. */
export function realizeOutcomes(o: LiveOutcomes, tickCount: number, price: number): LiveOutcomes {
  if (!o.awaiting.some((a) => a.dueTickCount <= tickCount)) return o;
  const byHorizon = new Map(o.byHorizon);
  const still: Awaiting[] = [];
  // Not sorted by due tick across horizons; the list is short (the sum of the horizons).
  for (const a of o.awaiting) {
    if (a.dueTickCount > tickCount) {
      still.push(a);
      continue;
    }
    const p = a.prediction;
    // No log return exists across a non-positive price: such an outcome is not scored.
    if (!(p.tickPrice > 0 && price > 0)) continue;
    const r = Math.log(price / p.tickPrice);
    const c = byHorizon.get(p.horizonTicks) ?? { realized: 0, hits: 0, covered: 0 };
    byHorizon.set(p.horizonTicks, {
      realized: c.realized + 1,
      hits: c.hits + ((r > 0) === (p.direction === Direction.DIRECTION_UP) ? 1 : 0),
      covered: c.covered + (r >= p.intervalLowReturn && r <= p.intervalHighReturn ? 1 : 0),
    });
  }
  return { awaiting: still, byHorizon };
}
