/**
 * The hook between the consumer group and the gateway. The worker core starts consuming before the gateway
 * exists (the gateway needs the core's pipeline), so the group's assignments go through this relay: it keeps
 * the latest one and hands it to the gateway once attached, then every later one as it comes.
 */
import type { ConsumerListener } from '../connectors/kafka/price-consumer.ts';

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
 * The consumer's listener (the worker's pipeline) with ownership publishing: every assignment goes to the
 * listener first (local answers switch at once, the shared table follows), then to the pipeline; neither waits
 * for the other.
 */
export function publishingOwnership(pipeline: ConsumerListener, listener: AssignmentListener, onError: (err: unknown) => void): ConsumerListener {
  return {
    assigned(partitions, control) {
      listener.assignmentChanged(partitions).catch(onError);
      pipeline.assigned(partitions, control);
    },
    fetched: (batch) => pipeline.fetched(batch),
  };
}
