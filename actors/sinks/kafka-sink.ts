/**
 * Predictions to `ml-predictions` (one message per horizon) and alerts to `commodity-alerts`, keyed by commodity, as
 * protobuf with the tick's time: the topic messages of a batch of outputs, which its partition's writer publishes
 * in the same transaction as the offset.
 */
import type { OutgoingMessage } from '../../connectors/message-bus.ts';
import { contentTypes } from '../../connectors/kafka/topics.ts';
import { Alert } from '../../proto/gen/carbon/v1/alert.ts';
import { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { TickOutputs } from './tick-outputs.ts';

const headers = { 'content-type': contentTypes.protobuf };

export interface OutputMessages {
  readonly predictions: OutgoingMessage[];
  readonly alerts: OutgoingMessage[];
}

export function outputMessages(batch: readonly TickOutputs[]): OutputMessages {
  const out: OutputMessages = { predictions: [], alerts: [] };
  for (const o of batch) {
    for (const p of o.predictions) out.predictions.push({ key: o.tick.commodity, value: Prediction.encode(p).finish(), headers, timestampMs: o.tick.tsMs });
    if (o.alert) out.alerts.push({ key: o.tick.commodity, value: Alert.encode(o.alert).finish(), headers, timestampMs: o.tick.tsMs });
  }
  return out;
}
