/**
 * Which partition of a topic a commodity's messages go to: one function for everything that places a commodity or
 * looks for its owner (the Kafka tick producer, the in-process bus, the gateway's router, `carbon status`).
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, PartitionMetadata[]>();

/**
 * The partition of `commodity` among `partitionCount` partitions, exactly as the producer places its ticks:
 * this calls kafkajs's DefaultPartitioner itself (toPositive(murmur2(key)) % count, Java-compatible).
 * Frozen: changing the partitioner or the key remaps every commodity to another owner under live state.
 */
export function partitionOf(commodity: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  let metadata = metadataByCount.get(partitionCount);
  if (metadata === undefined) {
    metadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
    metadataByCount.set(partitionCount, metadata);
  }
  return partitioner({ topic: '', partitionMetadata: metadata, message: { key: commodity, value: null } });
}
