/**
 * The topics of the platform (see docs/api.md). Keys are commodity ids; values are protobuf from proto/.
 * A namespace prefix (CARBON_TOPIC_PREFIX, empty in production) lets tests and tenants share one broker.
 */
export interface Topics {
  /** PriceTick, from ingest and external producers, read by workers. */
  readonly prices: string;
  /** Prediction, from commodity actors. */
  readonly predictions: string;
  /** Alert, from commodity actors. */
  readonly alerts: string;
  /** ModelUpdate, from the trainer and `carbon models`, read by every worker. */
  readonly modelUpdates: string;
}

/**
 * The topics under a namespace prefix: a non-empty prefix is joined to each name with a `.`, unless it already
 * ends with one (`newcomer` and `newcomer.` both give `newcomer.commodity-prices`); empty means no namespace.
 */
export function topicNames(prefix = ''): Topics {
  const namespace = prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
  return {
    prices: `${namespace}commodity-prices`,
    predictions: `${namespace}ml-predictions`,
    alerts: `${namespace}commodity-alerts`,
    modelUpdates: `${namespace}model-updates`,
  };
}

/**
 * Settings of every topic the platform creates (the Strimzi KafkaTopics in deploy/k8s carry the same).
 * Messages carry their event's time (a tick's observation time: decades back for a CSV replay), so retention is
 * by size, never by time: time-based retention would delete a replayed history before the workers read it.
 * And Kafka 4 refuses message times more than 1 h ahead by default, while ingest accepts ticks up to a day ahead.
 */
export const topicConfig: Readonly<Record<string, string>> = {
  'retention.ms': '-1',
  // Segments also roll on message-time gaps (segment.ms): with decades of tick times that would make thousands of
  // tiny segments, so they roll by size alone.
  'segment.ms': String(100 * 365 * 86_400_000),
  'retention.bytes': String(1024 ** 3),
  'message.timestamp.after.max.ms': String(2 * 86_400_000),
};

/** Where rejected messages of `topic` go, with the original bytes and reason headers. */
export function dlqOf(topic: string): string {
  return `${topic}.dlq`;
}

export function allTopicNames(t: Topics): string[] {
  const main = [t.prices, t.predictions, t.alerts, t.modelUpdates];
  return [...main, ...main.map(dlqOf)];
}

/** Value encodings accepted on the prices topic, named by the `content-type` header. */
export const contentTypes = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
} as const;
