/**
 * The producing side of the message bus, as the actors see it: Kafka in the cluster, an in-process bus in the
 * embedded mode. `send` resolves when the messages are durable (acknowledged by all in-sync replicas).
 */
export interface OutgoingMessage {
  /** Null for a DLQ record whose original message had no key. */
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** UTC, epoch milliseconds; the event's own time, so that a replay produces the same message. */
  readonly timestampMs?: number;
}

export interface MessageProducer {
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}
