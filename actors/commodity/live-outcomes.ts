/**
 * Live quality of the predictions in service: each prediction waits for the tick `horizon` ticks later, then
 * counts as a hit when its direction was right and as covered when the realized log return fell inside its
 * interval. Pure; the actor keeps the record in its state (it starts over after a restart).
 */
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { Direction } from '../../proto/gen/carbon/v1/prediction.ts';

interface Awaiting {
  readonly dueTickCount: number;
  readonly prediction: Prediction;
}

export interface LiveOutcomes {
  readonly awaiting: readonly Awaiting[];
  readonly realized: number;
  readonly hits: number;
  readonly covered: number;
}

export const noOutcomes: LiveOutcomes = { awaiting: [], realized: 0, hits: 0, covered: 0 };

/** Records the prediction made at tick number `tickCount`. */
export function awaitOutcome(o: LiveOutcomes, prediction: Prediction, tickCount: number): LiveOutcomes {
  return { ...o, awaiting: [...o.awaiting, { dueTickCount: tickCount + prediction.horizonTicks, prediction }] };
}

/** Settles every prediction due at tick number `tickCount`, whose price is `price`. */
export function realizeOutcomes(o: LiveOutcomes, tickCount: number, price: number): LiveOutcomes {
  if (!o.awaiting.some((a) => a.dueTickCount <= tickCount)) return o;
  let { realized, hits, covered } = o;
  const still: Awaiting[] = [];
  // Not sorted by due tick once a model with another horizon was swapped in; the list is short (<= horizon).
  for (const a of o.awaiting) {
    if (a.dueTickCount > tickCount) {
      still.push(a);
      continue;
    }
    const p = a.prediction;
    // No log return exists across a non-positive price: such an outcome is not scored.
    if (!(p.tickPrice > 0 && price > 0)) continue;
    const r = Math.log(price / p.tickPrice);
    realized++;
    if ((r > 0) === (p.direction === Direction.DIRECTION_UP)) hits++;
    if (r >= p.intervalLowReturn && r <= p.intervalHighReturn) covered++;
  }
  return { awaiting: still, realized, hits, covered };
}
