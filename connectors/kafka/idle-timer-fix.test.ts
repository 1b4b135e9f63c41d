/** On the real broker: idle kafkajs connections stop checking their request queues every millisecond, and still work. */
import test from 'ava';
import { createRequire } from 'node:module';
import { KAFKA_BROKERS, freshTopics, uniqueName } from '../../test/services.ts';
import { createKafka } from './client.ts';

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: { checkPendingRequests(...args: unknown[]): unknown } };

test('an idle consumer and producer check their request queues only when something happens, and still deliver', async (t) => {
  const { topics } = await freshTopics(t, 1);
  const kafka = createKafka(KAFKA_BROKERS, 'carbon-test-idle');
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: uniqueName('idle') });
  t.teardown(async () => {
    await consumer.disconnect();
    await producer.disconnect();
  });
  const received: string[] = [];
  let arrived: () => void = () => undefined;
  const firstArrival = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topics.prices, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(String(message.value));
      arrived();
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  const original = RequestQueue.prototype.checkPendingRequests;
  let checks = 0;
  RequestQueue.prototype.checkPendingRequests = function counted(this: unknown, ...args: unknown[]) {
    checks++;
    return original.apply(this, args);
  };
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  } finally {
    RequestQueue.prototype.checkPendingRequests = original;
  }
  // Unfixed, every connection checks about once a millisecond (thousands in 2 s); fixed, only when a request is
  // answered: the consumer's fetches and heartbeats, a few a second.
  t.true(checks < 100, `${checks} checks in 2 s of idleness`);

  await producer.send({ topic: topics.prices, messages: [{ key: 'WTI', value: 'after idling' }] });
  await firstArrival;
  t.deepEqual(received, ['after idling']);
});
