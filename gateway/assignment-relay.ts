/**
 * The hook between the consumer group and the gateway. The worker core starts consuming before the gateway
 * exists (the gateway needs the core's pipeline), so the group's assignments go through this relay: it keeps
 * the latest one and hands it to the gateway once attached, then every later one as it comes.
 */
import type { PartitionedPipeline } from '../connectors/kafka/price-consumer.ts';
import type { Edges } from '../supervisors/worker/edges.ts';

export interface AssignmentListener {
  assignmentChanged(partitions: readonly number[]): Promise<void>;
}

export class AssignmentRelay implements AssignmentListener {
  private latest: readonly number[] | undefined;
  private target: AssignmentListener | undefined;

  async assignmentChanged(partitions: readonly number[]): Promise<void> {
    this.latest = partitions;
    await this.target?.assignmentChanged(partitions);
  }

  /** From now on assignments go to `target`, starting with the latest one seen. */
  async attach(target: AssignmentListener): Promise<void> {
    this.target = target;
    if (this.latest !== undefined) await target.assignmentChanged(this.latest);
  }
}

/**
 * The consumer's pipeline with ownership publishing: every assignment goes to the listener first (local
 * answers switch at once, the shared table follows), then to the pipeline.
 */
export function publishingOwnership(pipeline: PartitionedPipeline, listener: AssignmentListener): PartitionedPipeline {
  return {
    async assignmentChanged(partitions) {
      const published = listener.assignmentChanged(partitions);
      await pipeline.assignmentChanged(partitions);
      await published;
    },
    handleBatch: (partition, records, heartbeat) => pipeline.handleBatch(partition, records, heartbeat),
  };
}

/** `edges` whose prices consumer publishes each assignment through `listener`. */
export function edgesPublishingOwnership(edges: Edges, listener: AssignmentListener): Edges {
  return { ...edges, consumePrices: (pipeline, onFatal) => edges.consumePrices(publishingOwnership(pipeline, listener), onFatal) };
}
