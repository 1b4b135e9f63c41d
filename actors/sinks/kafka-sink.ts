/** Predictions to `ml-predictions` (one message per horizon) and alerts to `commodity-alerts`, keyed by commodity, as protobuf. */
import type { MessageProducer, OutgoingMessage } from '../../connectors/message-bus.ts';
import { contentTypes, type Topics } from '../../connectors/kafka/topics.ts';
import { Alert } from '../../proto/gen/carbon/v1/alert.ts';
import { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { OutputWriter } from './tick-outputs.ts';

const headers = { 'content-type': contentTypes.protobuf };

export function busSink(producer: MessageProducer, topics: Topics): OutputWriter {
  return {
    name: 'bus',
    async write(batch) {
      const predictions: OutgoingMessage[] = [];
      const alerts: OutgoingMessage[] = [];
      for (const o of batch) {
        for (const p of o.predictions) {
          predictions.push({ key: o.tick.commodity, value: Prediction.encode(p).finish(), headers, timestampMs: o.tick.tsMs });
        }
        if (o.alert) {
          alerts.push({ key: o.tick.commodity, value: Alert.encode(o.alert).finish(), headers, timestampMs: o.tick.tsMs });
        }
      }
      await Promise.all([producer.send(topics.predictions, predictions), producer.send(topics.alerts, alerts)]);
    },
  };
}
