/** The MessageProducer of the cluster: kafkajs's idempotent producer, acks from all in-sync replicas. */
import type { Kafka } from 'kafkajs';
import type { MessageProducer } from '../message-bus.ts';

export async function kafkaProducer(kafka: Kafka): Promise<MessageProducer> {
  // kafkajs requires a single in-flight request per connection for its idempotent producer.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async send(topic, messages) {
      if (messages.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: messages.map((m) => ({
          key: m.key,
          value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
          headers: m.headers ? { ...m.headers } : undefined,
          timestamp: m.timestampMs === undefined ? undefined : String(m.timestampMs),
        })),
      });
    },
    close: () => producer.disconnect(),
  };
}
