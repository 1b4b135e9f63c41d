/**
 * A TickPublisher over any MessageProducer: how the embedded platform feeds its own prices topic (the in-process
 * bus, or Kafka when KAFKA_BROKERS is set) with the ingest job's validated ticks and rejected rows.
 */
import { rejectedRowRecord, type RejectedRow, type TickPublisher } from './kafka/tick-publisher.ts';
import { dlqMessage } from './kafka/dlq.ts';
import { contentTypes, dlqOf } from './kafka/topics.ts';
import type { MessageProducer, OutgoingMessage } from './message-bus.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { dlqTotal } from '../platform/metrics.ts';

const tickHeaders = { 'content-type': contentTypes.protobuf };

export function producerTickPublisher(producer: MessageProducer, topic: string, maxValueBytes: number): TickPublisher {
  let pending: Promise<void>[] = [];
  const track = (p: Promise<void>): void => {
    pending.push(p);
    // Observed here; flush() reports the first failure.
    p.catch(() => undefined);
  };
  return {
    async publish(ticks) {
      const messages: OutgoingMessage[] = ticks.map((t) => ({ key: t.commodity, value: PriceTick.encode(t).finish(), headers: tickHeaders, timestampMs: t.tsMs }));
      track(producer.send(topic, messages));
    },
    async reject(rows: readonly RejectedRow[]) {
      const messages = rows.map((r) => dlqMessage(rejectedRowRecord(r, topic), maxValueBytes));
      const dlq = dlqOf(topic);
      track(producer.send(dlq, messages.map((m) => ({ key: m.key ?? '', value: m.value, headers: m.headers }))));
      for (const r of rows) dlqTotal.inc({ topic: dlq, reason: r.reason });
    },
    async flush() {
      const waiting = pending;
      pending = [];
      await Promise.all(waiting);
    },
    async close() {
      await this.flush();
    },
  };
}
