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

export function topicNames(prefix = ''): Topics {
  return {
    prices: `${prefix}commodity-prices`,
    predictions: `${prefix}ml-predictions`,
    alerts: `${prefix}commodity-alerts`,
    modelUpdates: `${prefix}model-updates`,
  };
}

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
