/**
 * Announces model changes on `model-updates` through the message bus (Kafka's idempotent producer in the
 * cluster, the in-process bus in the embedded mode): a ModelUpdate protobuf keyed by commodity, so that the
 * changes of one commodity stay in one partition, in order.
 */
import type { MessageProducer } from '../../connectors/message-bus.ts';
import { contentTypes } from '../../connectors/kafka/topics.ts';
import { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';
import type { ModelUpdatePublisher } from '../model/registry.ts';

export function modelUpdatePublisher(producer: MessageProducer, topic: string): ModelUpdatePublisher {
  return {
    publish: (update) =>
      producer.send(topic, [
        {
          key: update.commodity,
          value: ModelUpdate.encode(update).finish(),
          headers: { 'content-type': contentTypes.protobuf },
          timestampMs: update.changedAtMs,
        },
      ]),
  };
}
