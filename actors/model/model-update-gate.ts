/**
 * What a worker does with each record of `model-updates`, whichever bus it came on: a valid ModelUpdate is applied
 * (the worker reloads the commodity's models), anything else goes to `model-updates.dlq` with its reason
 * (decode-model-update.ts) and is not applied. The topic is read by every worker, so each refuses a bad record
 * once: the DLQ holds one record per worker that read it, each naming its worker in x-dlq-origin.
 */
import { dlqMessage } from '../../connectors/kafka/dlq.ts';
import type { ModelUpdateRecord } from '../../connectors/kafka/model-updates-consumer.ts';
import type { MessageProducer } from '../../connectors/message-bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { dlqTotal } from '../../platform/metrics.ts';
import type { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';
import { decodeModelUpdate } from './decode-model-update.ts';

export interface ModelUpdateGateOptions {
  readonly producer: MessageProducer;
  readonly topic: string;
  readonly maxValueBytes: number;
  /** Names this worker in the DLQ records it writes. */
  readonly worker: string;
  readonly apply: (update: ModelUpdate) => Promise<void>;
  readonly log: Logger;
}

/** The handler of one record: resolves once it is applied or durably dead-lettered. */
export function modelUpdateGate(o: ModelUpdateGateOptions): (record: ModelUpdateRecord) => Promise<void> {
  return async (record) => {
    const decoded = decodeModelUpdate(record.value);
    if (decoded.ok) return o.apply(decoded.update);
    const letter = dlqMessage({
      sourceTopic: o.topic,
      value: record.value ?? Buffer.alloc(0),
      reason: decoded.reason,
      detail: decoded.detail,
      key: record.key === null ? undefined : record.key.toString(),
      partition: record.partition,
      offset: record.offset,
      origin: `worker ${o.worker}`,
      contentType: record.contentType,
    }, o.maxValueBytes);
    await o.producer.send(letter.topic, [{ key: letter.key, value: letter.value, headers: letter.headers }]);
    dlqTotal.inc({ topic: letter.topic, reason: decoded.reason });
    o.log.warn('model_update_refused', { partition: record.partition, offset: record.offset, reason: decoded.reason, detail: decoded.detail });
  };
}
