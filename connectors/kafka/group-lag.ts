/**
 * A consumer group's lag on a topic, per partition, from the broker: the high watermark against the group's
 * committed offset (a partition the group never committed counts from its first retained offset).
 */
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  readonly partition: number;
  readonly high: number;
  /** -1 when the group never committed on this partition. */
  readonly committed: number;
  readonly lag: number;
}

export async function groupLag(admin: Admin, topic: string, groupId: string): Promise<PartitionLag[]> {
  const [offsets, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return offsets
    .map((p) => {
      const high = Number(p.high);
      const at = done.get(p.partition) ?? -1;
      return { partition: p.partition, high, committed: at, lag: Math.max(0, high - (at >= 0 ? at : Number(p.low))) };
    })
    .sort((a, b) => a.partition - b.partition);
}
