/**
 * The wire prediction (carbon.v1.Prediction) of a champion's forecast at one tick: the distribution in log-return
 * units and as prices, the direction on the side of 0.5 the probability is on, and the trading signal with why.
 */
import type { ReturnDistribution } from '../forecast/distribution.ts';
import { INTERVAL, QUANTILE_LEVELS } from '../forecast/distribution.ts';
import type { ForecastSkill as Skill } from '../forecast/forecaster.ts';
import { tradingSignal, type Signal } from '../forecast/signal.ts';
import { Direction, TradingSignal, type ForecastSkill, type Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { ServedForecaster } from './protocol.ts';

const signals: Record<Signal, TradingSignal> = {
  LONG: TradingSignal.TRADING_SIGNAL_LONG,
  SHORT: TradingSignal.TRADING_SIGNAL_SHORT,
  NEUTRAL: TradingSignal.TRADING_SIGNAL_NEUTRAL,
};

function skillMessage(s: Skill | undefined): ForecastSkill | undefined {
  if (s === undefined) return undefined;
  // A p-value of 1 stands for "no test": the calls all pointed one way, which is no evidence of skill.
  return { ...s, pesaranTimmermannP: s.pesaranTimmermannP ?? 1 };
}

export function predictionOf(
  commodity: string,
  served: ServedForecaster,
  d: ReturnDistribution,
  tick: { readonly tsMs: number; readonly price: number },
  inferenceUs: number,
  nowMs: number,
): Prediction {
  const { spec } = served.forecaster;
  const asPrice = (r: number) => tick.price * Math.exp(r);
  const quantileReturns = Array.from(d.quantiles);
  const { signal, reason } = tradingSignal(spec.direction ?? { pesaranTimmermannP: null }, d.probabilityUp);
  return {
    commodity,
    tickTsMs: tick.tsMs,
    tickPrice: tick.price,
    modelVersion: served.version,
    horizonTicks: spec.horizonTicks,
    predictedReturn: d.point,
    predictedPrice: asPrice(d.point),
    direction: d.probabilityUp > 0.5 ? Direction.DIRECTION_UP : Direction.DIRECTION_DOWN,
    probabilityUp: d.probabilityUp,
    intervalLowReturn: quantileReturns[INTERVAL.lowIndex]!,
    intervalHighReturn: quantileReturns[INTERVAL.highIndex]!,
    intervalLowPrice: asPrice(quantileReturns[INTERVAL.lowIndex]!),
    intervalHighPrice: asPrice(quantileReturns[INTERVAL.highIndex]!),
    intervalLevel: INTERVAL.level,
    inferenceUs,
    predictedAtMs: nowMs,
    family: spec.family,
    quantileLevels: [...QUANTILE_LEVELS],
    quantileReturns,
    quantilePrices: quantileReturns.map(asPrice),
    scale: d.scale,
    signal: signals[signal],
    signalReason: reason,
    skill: skillMessage(spec.skill),
  };
}
