import test from 'ava';
import { recordBytes, sendsOf } from './batch-chunks.ts';

const message = (i: number, bytes: number) => ({ key: `K${i % 3}`, value: Buffer.alloc(bytes, i % 256) });

test('a backlog is cut into sends under the size, in order, each topic\'s messages kept in their order', (t) => {
  const predictions = Array.from({ length: 1_000 }, (_, i) => message(i, 1_000));
  const alerts = Array.from({ length: 10 }, (_, i) => message(i, 200));
  const sends = sendsOf([{ topic: 'p', messages: predictions }, { topic: 'a', messages: alerts }], 100_000);
  t.true(sends.length > 1);
  for (const send of sends) t.true(send.flatMap((b) => b.messages).reduce((n, m) => n + recordBytes(m), 0) <= 100_000);
  const byTopic = (topic: string) => sends.flat().filter((b) => b.topic === topic).flatMap((b) => b.messages);
  t.deepEqual(byTopic('p'), predictions);
  t.deepEqual(byTopic('a'), alerts);
});

test('what fits is one send; a message larger than the size is a send of its own; nothing gives no send', (t) => {
  const small = [{ topic: 'p', messages: [message(1, 10), message(2, 10)] }, { topic: 'a', messages: [message(3, 10)] }];
  t.deepEqual(sendsOf(small, 10_000), [small]);
  const huge = message(4, 50_000);
  t.deepEqual(sendsOf([{ topic: 'p', messages: [message(1, 10), huge, message(2, 10)] }], 10_000).map((s) => s.flatMap((b) => b.messages).length), [1, 1, 1]);
  t.deepEqual(sendsOf([]), []);
});
