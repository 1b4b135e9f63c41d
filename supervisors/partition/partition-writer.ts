/**
 * Where a partition's results leave the worker with its offset: the topics' messages and the committed offset in one
 * step. Kafka implements it with a transactional producer per partition (connectors/kafka/partition-writers.ts): its
 * transactional id is the partition's, so opening a writer fences every earlier writer of the partition, wherever it
 * runs; the in-process bus with a synchronous append-and-commit (connectors/memory-bus/memory-bus.ts).
 */
import type { OutgoingMessage } from '../../connectors/message-bus.ts';

/** Messages for one topic. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

/** One assignment's writer of one partition. */
export interface PartitionWriter {
  /** The offset to process from: the group's committed offset, read after any earlier writer was fenced. */
  readonly startOffset: number;
  /**
   * Publishes `messages` and commits `offset` (when given) as one step; resolves when both are durable. A rejection
   * means this writer can commit nothing more (fenced by a newer owner, or broken by a broker failure): the
   * partition drops what it had not committed and is opened again, from the committed offset, if it is still
   * assigned here.
   */
  commit(messages: readonly TopicMessages[], offset: number | undefined): Promise<void>;
  close(): Promise<void>;
}

/** Opens the writer of a partition assigned to this worker. */
export interface PartitionWriters {
  open(partition: number): Promise<PartitionWriter>;
  /** Whether a commit's rejection says that another owner took the partition (for logs and metrics). */
  ownershipLost(err: unknown): boolean;
}
