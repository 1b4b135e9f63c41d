/**
 * The workers' DeadLetterPort on the shared DlqWriter: each record is made durable (flushed) before the offset it
 * came from may be committed.
 */
import type { DeadLetterPort } from '../../supervisors/partition/dead-letters.ts';
import type { DlqWriter } from './dlq.ts';

export function dlqDeadLetterPort(writer: DlqWriter, sourceTopic: string): DeadLetterPort {
  return {
    async send(record) {
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
    },
  };
}
