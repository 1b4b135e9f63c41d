/**
 * The worker's partitions: a PartitionAssignment per partition the group gave it, under the worker root actor.
 * Drives them from the consumer edge (Kafka, or the embedded in-process bus) and answers the gateway's
 * questions about the commodities it owns.
 */
import type { CommoditySnapshot } from '../../actors/commodity/protocol.ts';
import type { IncomingRecord, PartitionedPipeline } from '../../connectors/kafka/price-consumer.ts';
import { mailboxDepth, partitionsOwned } from '../../platform/metrics.ts';
import { PartitionAssignment, type PartitionDeps } from '../partition/partition-supervisor.ts';
import type { ParentRef } from '../typed-actors.ts';

export interface WorkerPipelineOptions {
  readonly root: ParentRef;
  readonly deps: PartitionDeps;
  /** In-flight ticks of one partition above which it stops taking more until it drained. */
  readonly maxInFlightPerPartition: number;
}

export class WorkerPipeline implements PartitionedPipeline {
  private readonly assignments = new Map<number, PartitionAssignment>();

  constructor(private readonly opts: WorkerPipelineOptions) {}

  private assignment(partition: number): PartitionAssignment {
    let a = this.assignments.get(partition);
    if (!a) {
      a = new PartitionAssignment(partition, this.opts.root, this.opts.deps);
      this.assignments.set(partition, a);
      partitionsOwned.set(this.assignments.size);
    }
    return a;
  }

  async assignmentChanged(partitions: readonly number[]): Promise<void> {
    const keep = new Set(partitions);
    for (const [p, a] of this.assignments) {
      if (keep.has(p)) continue;
      // Hand-off: the consumer ran no batch of it since the rebalance began, so nothing new arrives; finish
      // what is in flight, make it durable, then stop its actors.
      a.state = 'draining';
      await a.finished();
      await this.opts.deps.sink.flush();
      a.stop();
      for (const commodity of a.ledgers.keys()) this.opts.deps.forecasters.release(commodity);
      this.assignments.delete(p);
      this.opts.deps.log.info('partition_revoked', { partition: p });
    }
    for (const p of partitions) this.assignment(p);
    partitionsOwned.set(this.assignments.size);
  }

  async handleBatch(partition: number, records: readonly IncomingRecord[], heartbeat: () => Promise<void>): Promise<number | undefined> {
    const a = this.assignment(partition);
    const limit = this.opts.maxInFlightPerPartition;
    for (let from = 0; from < records.length; from += limit) {
      if (a.inFlight() > 0 && a.inFlight() + Math.min(limit, records.length - from) > limit) {
        // Backpressure: the partition takes nothing more until what it holds is finished.
        await a.finished();
        await heartbeat();
      }
      a.accept(records.slice(from, from + limit));
      this.updateMailboxDepth();
    }
    await a.finished();
    this.updateMailboxDepth();
    return a.tracker.committable();
  }

  private updateMailboxDepth(): void {
    let depth = 0;
    for (const a of this.assignments.values()) depth += a.pendingInLedgers();
    mailboxDepth.set(depth);
  }

  ownedPartitions(): number[] {
    return [...this.assignments.keys()].sort((x, y) => x - y);
  }

  /** Tells the commodity's actor, wherever it runs here, that its forecasters changed. */
  forecastersChanged(commodity: string): void {
    for (const a of this.assignments.values()) if (a.ledgers.has(commodity)) a.forecastersChanged(commodity);
  }

  /** The owning actor's snapshot, or undefined when this worker holds no actor for the commodity. */
  async snapshot(partition: number, commodity: string, timeoutMs: number): Promise<CommoditySnapshot | undefined> {
    return this.assignments.get(partition)?.snapshot(commodity, timeoutMs);
  }

  /** Chaos control: crash the commodity's actor, or a random actor of a random partition. */
  crash(commodity: string | undefined, partitionOfCommodity: (c: string) => number): boolean {
    const partitions = [...this.assignments.values()];
    const a = commodity === undefined
      ? partitions[Math.floor(Math.random() * partitions.length)]
      : this.assignments.get(partitionOfCommodity(commodity));
    if (!a) return false;
    return a.crashCommodity(commodity);
  }

  async stop(): Promise<void> {
    for (const a of this.assignments.values()) {
      await a.finished();
      a.stop();
    }
    this.assignments.clear();
    partitionsOwned.set(0);
  }
}
