/**
 * Topic messages cut into sends whose records stay under a size. kafkajs sends the records of one partition in a
 * sendBatch as one record batch, and the broker refuses a batch over message.max.bytes (1 MiB by default) whole: a
 * commit of a large backlog (after a restart of the broker, or a partition taken over) would fail again on every
 * retry. Sends in order, one after the other, keep each key's messages in order.
 */
import type { Message } from 'kafkajs';

/** Half the broker's default message.max.bytes: room for the batch's own header and the estimate's slack. */
export const MAX_SEND_BYTES = 512 * 1024;
/** A record's framing (length, attributes, deltas, header count) and a generous margin. */
const RECORD_OVERHEAD_BYTES = 70;

export interface TopicBatch {
  readonly topic: string;
  readonly messages: Message[];
}

function length(v: Message['key'] | Message['value']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

export function recordBytes(m: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + length(m.key) + length(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) bytes += Buffer.byteLength(k) + (Array.isArray(v) ? v.reduce((n, x) => n + length(x), 0) : length(v as Buffer | string | undefined));
  return bytes;
}

/** The messages in sends of at most `maxBytes` each (a single larger message is a send of its own). */
export function sendsOf(batches: readonly TopicBatch[], maxBytes = MAX_SEND_BYTES): TopicBatch[][] {
  const sends: TopicBatch[][] = [];
  let current: TopicBatch[] = [];
  let bytes = 0;
  for (const { topic, messages } of batches) {
    for (const m of messages) {
      const size = recordBytes(m);
      if (bytes > 0 && bytes + size > maxBytes) {
        sends.push(current);
        current = [];
        bytes = 0;
      }
      const last = current[current.length - 1];
      if (last?.topic === topic) last.messages.push(m);
      else current.push({ topic, messages: [m] });
      bytes += size;
    }
  }
  if (current.length > 0) sends.push(current);
  return sends;
}
