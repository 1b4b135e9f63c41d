/**
 * Every worker hears every promotion and rollback: a consumer of `model-updates` in a group of its own (so that
 * each worker gets all updates), from the latest offset (a worker that starts later reads the registry itself).
 * Each record goes to `handle` as it came (actors/model/model-update-gate.ts decides what it is).
 */
import type { Kafka } from 'kafkajs';

/** A record of `model-updates` as a bus delivers it. */
export interface ModelUpdateRecord {
  readonly value: Buffer | null;
  readonly key: Buffer | string | null;
  /** Undefined on the in-process bus, which fans its records out without one. */
  readonly partition: number | undefined;
  readonly offset: string;
  readonly contentType: string | undefined;
}

export interface ModelUpdatesConsumer {
  stop(): Promise<void>;
}

export async function startModelUpdatesConsumer(
  kafka: Kafka,
  topic: string,
  groupPrefix: string,
  handle: (record: ModelUpdateRecord) => Promise<void>,
): Promise<ModelUpdatesConsumer> {
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-models-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const contentType = message.headers?.['content-type'];
      await handle({ value: message.value, key: message.key, partition, offset: message.offset, contentType: contentType === undefined ? undefined : String(contentType) });
    },
  });
  return {
    async stop() {
      await consumer.disconnect();
    },
  };
}
