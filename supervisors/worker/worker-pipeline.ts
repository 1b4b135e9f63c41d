/**
 * The worker's pipeline: the partitions the group gave it, each a Partition under the worker root actor, fed by the
 * prices consumer (Kafka, or the embedded in-process bus) and committed by the commit cycle. It follows the
 * assignments: a new partition is opened (its writer fences any earlier one and says where to start), a revoked one
 * is handed off (hand-off.ts), one whose commit failed is dropped and opened again if it is still assigned here. A
 * partition that stays keeps its actors and their windows across rebalances. It also answers the gateway's
 * questions about the commodities it owns.
 */
import type { CommoditySnapshot } from '../../actors/commodity/protocol.ts';
import { retryDelayMs, type StoreWrites } from '../../actors/sinks/store-writes.ts';
import type { ConsumerListener, FetchControl, FetchedBatch } from '../../connectors/kafka/price-consumer.ts';
import type { Topics } from '../../connectors/kafka/topics.ts';
import { consumerLag, dependencyFailures, dependencyWaiting, handOffSeconds, mailboxDepth, partitionsLost, partitionsOwned } from '../../platform/metrics.ts';
import { handOff } from '../partition/hand-off.ts';
import { Partition, type PartitionDeps } from '../partition/partition.ts';
import type { PartitionWriters } from '../partition/partition-writer.ts';
import type { ParentRef } from '../typed-actors.ts';
import { CommitCycle } from './commit-cycle.ts';

export interface WorkerPipelineOptions {
  readonly root: ParentRef;
  readonly deps: PartitionDeps;
  readonly writers: PartitionWriters;
  readonly stores: StoreWrites;
  readonly topics: Topics;
  /** Messages of one partition in flight (taken, not committed) above which it takes no more until some are committed. */
  readonly maxInFlightPerPartition: number;
  readonly handOffTimeoutMs: number;
  readonly flush: { readonly intervalMs: number; readonly maxRows: number; readonly maxConcurrent: number };
  readonly maxDlqValueBytes: number;
  /** The commit cycle cannot go on (a store down past its give-up time): the worker exits. */
  readonly onFatal: (err: unknown) => void;
}

/** How often a batch waiting for room (or for its partition to open) keeps the membership alive. */
const WAIT_STEP_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class WorkerPipeline implements ConsumerListener {
  /** The partition of each number assigned here now (opening, running). */
  private readonly owned = new Map<number, Partition>();
  /** Every partition not ended yet: the assigned ones and those handing off. */
  private readonly live = new Set<Partition>();
  /** Per partition number, the end of its previous assignment here: a new one opens only after it. */
  private readonly ending = new Map<number, Promise<void>>();
  private readonly background = new Set<Promise<void>>();
  private control: FetchControl | undefined;
  private readonly cycle: CommitCycle;
  private stopped = false;

  constructor(private readonly opts: WorkerPipelineOptions) {
    this.cycle = new CommitCycle({
      stores: opts.stores,
      topics: opts.topics,
      maxDlqValueBytes: opts.maxDlqValueBytes,
      intervalMs: opts.flush.intervalMs,
      maxRows: opts.flush.maxRows,
      maxConcurrent: opts.flush.maxConcurrent,
      partitions: () => this.live,
      onCommitFailed: (partition, err) => this.commitFailed(partition, err),
      onFatal: opts.onFatal,
      log: opts.deps.log,
    });
  }

  private get log() {
    return this.opts.deps.log;
  }

  private track(work: Promise<void>): void {
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  assigned(partitions: readonly number[], control: FetchControl): void {
    this.control = control;
    if (this.stopped) return;
    const next = new Set(partitions);
    for (const [p, partition] of this.owned) if (!next.has(p)) this.revoke(partition);
    for (const p of next) if (!this.owned.has(p)) this.open(p, false);
    partitionsOwned.set(this.owned.size);
  }

  /** A partition of this assignment: opened (fencing, start offset) once its previous assignment here has ended. */
  private open(p: number, again: boolean): void {
    const partition = new Partition(p, this.opts.root, this.opts.deps);
    this.owned.set(p, partition);
    this.live.add(partition);
    const previous = this.ending.get(p) ?? Promise.resolve();
    this.track(previous.then(() => this.opening(partition, again)));
  }

  private async opening(partition: Partition, again: boolean): Promise<void> {
    const p = partition.partition;
    const current = () => this.owned.get(p) === partition && partition.state === 'opening';
    let failingSince: number | undefined;
    for (let attempt = 1; current(); attempt++) {
      try {
        const writer = await this.opts.writers.open(p);
        if (!current()) {
          await writer.close();
          return;
        }
        partition.open(writer);
        // Opened again in the same assignment: the consumer fetched on past what this worker now has to redo.
        if (again) this.control?.seek(p, writer.startOffset);
        if (failingSince !== undefined) dependencyWaiting.set({ dependency: 'kafka' }, 0);
        partition.log.info('partition_opened', { startOffset: writer.startOffset, again, attempts: attempt });
        return;
      } catch (err) {
        dependencyFailures.inc({ dependency: 'kafka' });
        if (failingSince === undefined) {
          failingSince = Date.now();
          dependencyWaiting.set({ dependency: 'kafka' }, 1);
        }
        partition.log[attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug']('partition_open_failed', { attempt, waitedMs: Date.now() - failingSince, err });
        await sleep(retryDelayMs(attempt) * 4);
      }
    }
  }

  private revoke(partition: Partition): void {
    this.owned.delete(partition.partition);
    if (partition.state === 'opening') {
      this.track(this.finish(partition, 'released', 'revoked before it opened'));
      return;
    }
    const started = performance.now();
    const done = handOff(partition, { flushNow: () => this.cycle.flushNow(), finish: (pt, state, why) => this.finish(pt, state, why) }, this.opts.handOffTimeoutMs)
      .then((result) => {
        handOffSeconds.observe((performance.now() - started) / 1000);
        if (result.state === 'lost') partitionsLost.inc({ reason: 'hand_off_timeout' });
        partition.log.info('partition_handed_off', { state: result.state, stepsMs: result.stepsMs, reason: result.reason });
      });
    this.ending.set(partition.partition, done);
    this.track(done);
  }

  /** Ends an assignment and lets go of what it held; once per partition (a later call does nothing). */
  private async finish(partition: Partition, state: 'released' | 'lost', reason: string): Promise<void> {
    if (partition.state === 'released' || partition.state === 'lost') return;
    const opened = partition.state !== 'opening';
    partition.end(state);
    this.live.delete(partition);
    if (this.owned.get(partition.partition) === partition) this.owned.delete(partition.partition);
    consumerLag.remove({ partition: String(partition.partition) });
    for (const commodity of partition.commodities()) this.opts.deps.forecasters.release(commodity);
    if (state === 'lost') partition.log.warn('partition_lost', { reason });
    if (!opened) return;
    try {
      await partition.writer.close();
    } catch (err) {
      partition.log.warn('partition_writer_close_failed', { err });
    }
  }

  private commitFailed(partition: Partition, err: unknown): void {
    const fenced = this.opts.writers.ownershipLost(err);
    partitionsLost.inc({ reason: fenced ? 'fenced' : 'commit_failed' });
    if (!fenced) dependencyFailures.inc({ dependency: 'kafka' });
    partition.log.warn('partition_commit_failed', { fenced, err });
    const p = partition.partition;
    const stillAssigned = this.owned.get(p) === partition;
    const ended = this.finish(partition, 'lost', fenced ? 'another writer owns the partition now' : 'the commit failed');
    this.ending.set(p, ended);
    this.track(ended);
    // Still ours as far as the group said last: open it again from the committed offset. If this member was evicted,
    // the group says so at its next heartbeat, and the new assignment decides.
    if (stillAssigned && !this.stopped) this.open(p, true);
  }

  async fetched(batch: FetchedBatch): Promise<void> {
    let partition = this.owned.get(batch.partition);
    while (partition !== undefined && partition.state === 'opening') {
      await sleep(WAIT_STEP_MS);
      await batch.heartbeat();
      partition = this.owned.get(batch.partition);
    }
    if (partition === undefined || partition.state !== 'running' || batch.isStale()) return;
    partition.highWatermark = batch.highWatermark;
    const limit = this.opts.maxInFlightPerPartition;
    const { records } = batch;
    for (let from = 0; from < records.length; from += limit) {
      const chunk = records.slice(from, from + limit);
      // Backpressure: the partition takes nothing more while it holds its limit (memory stays bounded).
      while (partition.state === 'running' && partition.inFlight.inFlight() > 0 && partition.inFlight.inFlight() + chunk.length > limit) {
        await Promise.race([partition.inFlight.nextCommit(), sleep(WAIT_STEP_MS)]);
        await batch.heartbeat();
      }
      if (partition.state !== 'running' || batch.isStale()) return;
      partition.accept(chunk);
    }
    let unsettled = 0;
    for (const p of this.live) unsettled += p.inFlight.unsettledCount();
    mailboxDepth.set(unsettled);
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((x, y) => x - y);
  }

  /** Tells the commodity's actor, wherever it runs here, that its forecasters changed. */
  forecastersChanged(commodity: string): void {
    for (const p of this.live) p.forecastersChanged(commodity);
  }

  /** The owning actor's snapshot, or undefined when this worker holds no actor for the commodity. */
  async snapshot(partition: number, commodity: string, timeoutMs: number): Promise<CommoditySnapshot | undefined> {
    const p = this.owned.get(partition);
    return p?.state === 'running' ? p.snapshot(commodity, timeoutMs) : undefined;
  }

  /** Chaos control: crash the commodity's actor, or a random actor of a random partition. */
  crash(commodity: string | undefined, partitionOfCommodity: (c: string) => number): boolean {
    const running = [...this.owned.values()].filter((p) => p.state === 'running');
    const p = commodity === undefined ? running[Math.floor(Math.random() * running.length)] : this.owned.get(partitionOfCommodity(commodity));
    return p?.crashCommodity(commodity) ?? false;
  }

  /**
   * Hands every partition off (the consumer must have stopped fetching first), then stops the commit cycle: what
   * was taken is committed, or dropped if the hand-off times out.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const partition of [...this.owned.values()]) this.revoke(partition);
    partitionsOwned.set(0);
    while (this.background.size > 0) await Promise.all([...this.background]);
    await this.cycle.stop();
  }
}
