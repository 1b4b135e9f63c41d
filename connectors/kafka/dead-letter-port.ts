/**
 * The workers' DeadLetterPort on the shared DlqWriter: each record is made durable before the offset it came
 * from may be committed. Sends are serialized, so that one flush never races another over the same buffer.
 */
import type { DeadLetterPort } from '../../supervisors/partition/dead-letters.ts';
import type { DlqWriter } from './dlq.ts';

export function dlqDeadLetterPort(writer: DlqWriter, sourceTopic: string): DeadLetterPort {
  let chain: Promise<void> = Promise.resolve();
  return {
    send(record) {
      const sent = chain.then(async () => {
        await writer.write([{
          sourceTopic,
          value: record.value ?? Buffer.alloc(0),
          reason: record.reason,
          detail: record.detail,
          key: record.key?.toString('utf8'),
          partition: record.partition,
          offset: String(record.offset),
        }]);
        await writer.flush();
      });
      // The next send waits for this one whatever its outcome; the caller sees the outcome through `sent`.
      chain = sent.catch(() => undefined);
      return sent;
    },
  };
}
