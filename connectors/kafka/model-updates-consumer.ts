/**
 * Every worker hears every promotion and rollback: a consumer of `model-updates` in a group of its own (so that
 * each worker gets all updates), from the latest offset (a worker that starts later reads the registry itself).
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger.ts';
import { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';

export interface ModelUpdatesConsumer {
  stop(): Promise<void>;
}

export async function startModelUpdatesConsumer(
  kafka: Kafka,
  topic: string,
  groupPrefix: string,
  apply: (update: ModelUpdate) => Promise<void>,
  log: Logger,
): Promise<ModelUpdatesConsumer> {
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-models-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      let update: ModelUpdate;
      try {
        update = ModelUpdate.decode(message.value);
      } catch (err) {
        log.error('model_update_undecodable', { offset: message.offset, err });
        return;
      }
      await apply(update);
    },
  });
  return {
    async stop() {
      await consumer.disconnect();
    },
  };
}
