/**
 * The in-process message bus of the embedded mode: the same topics, keys, partitions (same partitioner) and
 * commit semantics as Kafka, in memory. The prices topic is consumed partition by partition through the same
 * ConsumerListener as the Kafka consumer, and its partitions' writers publish and commit in one synchronous step
 * (one process: nothing to fence). Committed records are dropped, so memory stays bounded by what is in flight.
 * Other topics keep their last `retain` records for inspection and fan out to subscribers.
 */
import type { ConsumerListener, IncomingRecord } from '../kafka/price-consumer.ts';
import type { MessageProducer, OutgoingMessage } from '../message-bus.ts';

interface StoredRecord extends IncomingRecord {
  readonly timestampMs: number;
}

class Partition {
  /** records[i] has offset base + i. */
  records: StoredRecord[] = [];
  base = 0;
  committed = 0;
  private wake: (() => void) | undefined;

  get end(): number {
    return this.base + this.records.length;
  }

  append(m: OutgoingMessage): number {
    const offset = this.end;
    const headers = { ...(m.headers ?? {}) };
    this.records.push({
      offset,
      key: m.key === null ? null : Buffer.from(m.key),
      value: Buffer.from(m.value),
      contentType: headers['content-type'],
      headers,
      timestampMs: m.timestampMs ?? Date.now(),
    });
    this.wake?.();
    return offset;
  }

  /** Resolves when records past `from` exist (or `stopped` says to give up). */
  async waitBeyond(from: number, stopped: () => boolean): Promise<void> {
    while (this.end <= from && !stopped()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // Re-check now and then so that stop() is noticed without a record arriving.
        setTimeout(resolve, 200).unref();
      });
      this.wake = undefined;
    }
  }

  slice(from: number, max: number): StoredRecord[] {
    return this.records.slice(from - this.base, from - this.base + max);
  }

  commit(offset: number): void {
    this.committed = Math.max(this.committed, offset);
  }

  /** Drops what is committed (prices) or what is beyond the retention (other topics). */
  trim(keepFrom: number): void {
    const drop = keepFrom - this.base;
    if (drop <= 0) return;
    this.records = this.records.slice(drop);
    this.base = keepFrom;
  }
}

export type Partitioner = (key: string, partitionCount: number) => number;
type Listener = (record: IncomingRecord) => void;

export interface PartitionedConsumer {
  stop(): Promise<void>;
}

export class MemoryBus implements MessageProducer {
  private readonly topics = new Map<string, Partition[]>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly partitionCount: number,
    private readonly partitioner: Partitioner,
    /** Records kept per partition of topics nobody consumes through a pipeline. */
    private readonly retain = 1_000,
  ) {}

  private partitions(topic: string): Partition[] {
    let ps = this.topics.get(topic);
    if (!ps) {
      ps = Array.from({ length: this.partitionCount }, () => new Partition());
      this.topics.set(topic, ps);
    }
    return ps;
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const ps = this.partitions(topic);
    const listeners = this.listeners.get(topic);
    for (const m of messages) {
      const p = ps[this.partitioner(m.key ?? '', this.partitionCount)] as Partition;
      const offset = p.append(m);
      if (listeners) {
        const record = p.slice(offset, 1)[0] as StoredRecord;
        for (const l of listeners) l(record);
      }
      if (!this.consumed.has(topic) && p.records.length > this.retain * 2) p.trim(p.end - this.retain);
    }
  }

  async close(): Promise<void> {}

  /** True when every record sent to `topic` so far is committed by its consumer. */
  drained(topic: string): boolean {
    return this.partitions(topic).every((p) => p.committed >= p.end);
  }

  /** Every record of `topic` still held, by partition then offset. */
  records(topic: string): IncomingRecord[] {
    return this.partitions(topic).flatMap((p) => p.records);
  }

  /** Calls `listener` for every record sent to `topic` from now on. */
  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  private readonly consumed = new Set<string>();

  /**
   * Drives `listener` with every partition of `topic` (this process is the only member): from each partition's
   * committed offset, a batch of at most `maxBatch` after the other, as the listener takes them.
   */
  consume(topic: string, listener: ConsumerListener, maxBatch: number, onError: (err: unknown) => void): PartitionedConsumer {
    this.consumed.add(topic);
    const ps = this.partitions(topic);
    const positions = ps.map((p) => p.committed);
    const seeks = ps.map(() => 0);
    let stopped = false;
    listener.assigned(ps.map((_, i) => i), {
      seek(partition, offset) {
        positions[partition] = offset;
        seeks[partition] = (seeks[partition] ?? 0) + 1;
      },
    });
    const loops = Promise.all(ps.map(async (p, partition) => {
      while (!stopped) {
        await p.waitBeyond(positions[partition] as number, () => stopped);
        if (stopped) break;
        const from = positions[partition] as number;
        const seeksBefore = seeks[partition];
        const records = p.slice(from, maxBatch);
        await listener.fetched({
          partition, records, highWatermark: p.end, heartbeat: async () => undefined, isStale: () => seeks[partition] !== seeksBefore,
        });
        if (seeks[partition] === seeksBefore) positions[partition] = from + records.length;
      }
    }));
    loops.catch(onError);
    return {
      async stop() {
        stopped = true;
        await loops.catch(() => undefined);
      },
    };
  }

  /** The writers of `topic`'s partitions: each commit appends its messages and commits its offset at once. */
  writers(topic: string): MemoryPartitionWriters {
    return {
      open: async (partition) => {
        const p = this.partitions(topic)[partition] as Partition;
        return {
          startOffset: p.committed,
          commit: async (messages, offset) => {
            for (const t of messages) if (t.messages.length > 0) await this.send(t.topic, t.messages);
            if (offset !== undefined) {
              p.commit(offset);
              p.trim(p.committed);
            }
          },
          close: async () => undefined,
        };
      },
      ownershipLost: () => false,
    };
  }
}

/** The partition writers of the in-process bus (the shape of the pipeline's PartitionWriters). */
export interface MemoryPartitionWriters {
  open(partition: number): Promise<{
    readonly startOffset: number;
    commit(messages: ReadonlyArray<{ readonly topic: string; readonly messages: readonly OutgoingMessage[] }>, offset: number | undefined): Promise<void>;
    close(): Promise<void>;
  }>;
  ownershipLost(err: unknown): boolean;
}
