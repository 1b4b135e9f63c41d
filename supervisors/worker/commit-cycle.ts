/**
 * The worker's commit cycle: it takes from each open partition what is settled at the head of its in-flight log,
 * writes the outputs to the stores (Postgres and the online store, retried while they are down), then commits each
 * partition's topic messages and offset in one step through the partition's writer (a Kafka transaction). A cycle
 * starts every `intervalMs`, or at once when the previous one ends with more settled meanwhile; up to
 * `maxConcurrent` run side by side (the next one writes the stores while the previous one commits), and a
 * partition's commits keep the order in which they were taken.
 *
 * A commit that fails means the writer can commit nothing more (fenced, or broken by the broker): the pipeline
 * drops the partition's uncommitted work and opens it again if it is still assigned here. A store that stays down
 * past its give-up time is fatal: the worker exits, and what it had not committed is processed again elsewhere.
 */
import { outputMessages } from '../../actors/sinks/kafka-sink.ts';
import type { StoreWrites } from '../../actors/sinks/store-writes.ts';
import type { TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import { dlqMessage } from '../../connectors/kafka/dlq.ts';
import { dlqOf, type Topics } from '../../connectors/kafka/topics.ts';
import type { OutgoingMessage } from '../../connectors/message-bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { consumerLag, dlqTotal, mailboxDepth, tickProcessingSeconds } from '../../platform/metrics.ts';
import type { Take } from '../partition/in-flight-log.ts';
import type { Partition } from '../partition/partition.ts';
import type { TopicMessages } from '../partition/partition-writer.ts';

export interface CommitCycleOptions {
  readonly stores: StoreWrites;
  readonly topics: Topics;
  /** Largest DLQ value; a longer original is cut, with its size in a header. */
  readonly maxDlqValueBytes: number;
  readonly intervalMs: number;
  /** Messages one partition contributes to one cycle at most. */
  readonly maxRows: number;
  readonly maxConcurrent: number;
  /** The partitions to take from (open, running or handing off). */
  readonly partitions: () => Iterable<Partition>;
  readonly onCommitFailed: (partition: Partition, err: unknown) => void;
  readonly onFatal: (err: unknown) => void;
  readonly log: Logger;
}

interface PartitionTake {
  readonly partition: Partition;
  readonly take: Take;
}

/** The topic messages of one take: predictions and alerts of its outputs, dead letters to the prices DLQ. */
export function takeMessages(take: Take, topics: Topics, maxDlqValueBytes: number): TopicMessages[] {
  const outputs: TickOutputs[] = [...take.extras];
  const dlq: OutgoingMessage[] = [];
  for (const e of take.entries) {
    const settled = e.settled;
    if (settled?.kind === 'outputs') outputs.push(settled.outputs);
    else if (settled?.kind === 'dead_letter') {
      const l = settled.letter;
      const m = dlqMessage({
        sourceTopic: topics.prices, value: l.value ?? Buffer.alloc(0), reason: l.reason, detail: l.detail,
        key: l.key?.toString('utf8'), partition: l.partition, offset: String(l.offset),
      }, maxDlqValueBytes);
      dlq.push({ key: m.key, value: m.value, headers: m.headers });
    }
  }
  const { predictions, alerts } = outputMessages(outputs);
  return [
    { topic: topics.predictions, messages: predictions },
    { topic: topics.alerts, messages: alerts },
    { topic: dlqOf(topics.prices), messages: dlq },
  ];
}

function storeOutputs(takes: readonly PartitionTake[]): TickOutputs[] {
  const out: TickOutputs[] = [];
  for (const { take } of takes) {
    for (const e of take.entries) if (e.settled?.kind === 'outputs') out.push(e.settled.outputs);
    out.push(...take.extras);
  }
  return out;
}

export class CommitCycle {
  private running = 0;
  private readonly timer: NodeJS.Timeout;
  private idle: Array<() => void> = [];
  private failed = false;

  constructor(private readonly opts: CommitCycleOptions) {
    this.timer = setInterval(() => this.pump(), opts.intervalMs);
    this.timer.unref();
  }

  /** Starts a cycle now if one can run (a hand-off's flush does not wait for the interval). */
  flushNow(): void {
    this.pump();
  }

  /** Stops the interval; resolves once the running cycles ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.opts.maxConcurrent && !this.failed) {
      const takes = this.takeAll();
      if (takes.length === 0) return;
      this.running++;
      this.cycle(takes)
        .catch((err: unknown) => {
          if (this.failed) return;
          this.failed = true;
          this.opts.onFatal(err);
        })
        .finally(() => {
          this.running--;
          if (this.running === 0) {
            const idle = this.idle;
            this.idle = [];
            for (const resolve of idle) resolve();
          }
          // What settled while this cycle ran has waited already: it goes at once.
          if (!this.failed) this.pump();
        });
    }
  }

  private takeAll(): PartitionTake[] {
    const takes: PartitionTake[] = [];
    let unsettled = 0;
    for (const partition of this.opts.partitions()) {
      if (partition.state !== 'running' && partition.state !== 'handing_off') continue;
      unsettled += partition.inFlight.unsettledCount();
      const take = partition.inFlight.take(this.opts.maxRows);
      if (take !== undefined) takes.push({ partition, take });
    }
    mailboxDepth.set(unsettled);
    return takes;
  }

  /**
   * Stores first (one write for every partition's outputs), then each partition's commit, chained behind the
   * partition's previous one at the moment of the take: cycles that overlap still commit a partition in order.
   */
  private async cycle(takes: readonly PartitionTake[]): Promise<void> {
    const written = this.opts.stores.write(storeOutputs(takes));
    const commits = takes.map(({ partition, take }) => {
      const run = partition.commitTail.then(() => written).then(() => this.commit(partition, take));
      partition.commitTail = run;
      return run;
    });
    const marked = written.then(() => {
      for (const { partition, take } of takes) partition.inFlight.written(take);
    });
    // One wait on all of them: a store that gave up rejects every chained commit too, and each is observed here.
    await Promise.all([marked, ...commits]);
  }

  private async commit(partition: Partition, take: Take): Promise<void> {
    // Lost meanwhile (an earlier commit of it failed): its work is dropped, not published.
    if (partition.state !== 'running' && partition.state !== 'handing_off') return;
    try {
      await partition.writer.commit(takeMessages(take, this.opts.topics, this.opts.maxDlqValueBytes), take.commitOffset);
    } catch (err) {
      this.opts.onCommitFailed(partition, err);
      return;
    }
    partition.inFlight.committed(take);
    const now = performance.now();
    for (const e of take.entries) {
      if (e.settled?.kind === 'outputs') tickProcessingSeconds.observe((now - e.fetchedAtMs) / 1000);
      else if (e.settled?.kind === 'dead_letter') dlqTotal.inc({ topic: dlqOf(this.opts.topics.prices), reason: e.settled.letter.reason });
    }
    if (take.commitOffset !== undefined) consumerLag.set({ partition: String(partition.partition) }, Math.max(0, partition.highWatermark - take.commitOffset));
  }
}
