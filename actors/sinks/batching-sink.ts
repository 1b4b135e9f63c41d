/**
 * Batches outputs and writes each batch to every store; a batch is durable when all its writes resolved, and
 * batches are acknowledged in submission order. Up to `maxConcurrentBatches` batches are written at once: a
 * writer that is `concurrent` (idempotent upserts of distinct rows) takes them side by side, the others (a
 * latest-value store, an ordered stream) take them one after the other in batch order.
 * Flushes when `maxRows` are queued or `intervalMs` after the first queued row. A failing store is retried with
 * capped backoff (the partitions pause meanwhile, as their in-flight count grows); past `giveUpAfterMs` of failures
 * the sink reports a fatal error so that the supervisor above restarts the worker rather than hold data forever.
 */
import { sinkFlushSeconds } from '../../platform/metrics.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OutputWriter, SinkPort, TickOutputs } from './tick-outputs.ts';

export interface BatchingSinkOptions {
  readonly writers: readonly OutputWriter[];
  readonly maxRows: number;
  readonly intervalMs: number;
  /** Batches written at once (at least 1). */
  readonly maxConcurrentBatches: number;
  readonly giveUpAfterMs: number;
  readonly log: Logger;
  /** Called once when a store stays down past giveUpAfterMs. */
  readonly onFatal: (err: unknown) => void;
}

interface Entry {
  readonly outputs: TickOutputs;
  readonly onDurable: () => void;
}

export function batchingSink(opts: BatchingSinkOptions): SinkPort {
  let queue: Entry[] = [];
  let inFlight = 0;
  let activeBatches = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let fatal = false;
  let idleWaiters: Array<() => void> = [];
  /** Settles (true when durable) once the last started batch is acknowledged; never rejects. */
  let lastAcked: Promise<boolean> = Promise.resolve(true);
  /** Per writer that is not concurrent: settles when its last started write did; never rejects. */
  const writerTails = opts.writers.map((): Promise<unknown> => Promise.resolve());

  const writeWithRetry = async (writer: OutputWriter, batch: readonly TickOutputs[]): Promise<void> => {
    const firstFailureAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const end = sinkFlushSeconds.startTimer({ sink: writer.name });
      try {
        await writer.write(batch);
        end();
        return;
      } catch (err) {
        const waitedMs = Date.now() - firstFailureAt;
        opts.log.warn('sink_write_failed', { sink: writer.name, attempt, rows: batch.length, waitedMs, err });
        if (waitedMs >= opts.giveUpAfterMs) throw err;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 25 * 2 ** Math.min(attempt, 7))));
      }
    }
  };

  const writeToAll = (outputs: readonly TickOutputs[]): Promise<unknown> =>
    Promise.all(opts.writers.map((writer, i) => {
      if (writer.concurrent === true) return writeWithRetry(writer, outputs);
      const write = (writerTails[i] as Promise<unknown>).then(() => writeWithRetry(writer, outputs));
      // The tail only orders the next write; this write's failure is handled by the batch that awaits it.
      writerTails[i] = write.catch(() => undefined);
      return write;
    }));

  /** Writes one batch and acknowledges it after every earlier batch; resolves to whether it became durable. */
  const writeBatch = async (batch: readonly Entry[], previous: Promise<boolean>): Promise<boolean> => {
    try {
      await writeToAll(batch.map((e) => e.outputs));
    } catch (err) {
      if (!fatal) {
        fatal = true;
        opts.onFatal(err);
      }
      return false;
    }
    // An earlier batch that failed is never durable, so nothing after it may be acknowledged either.
    if (!(await previous)) return false;
    inFlight -= batch.length;
    for (const e of batch) e.onDurable();
    return true;
  };

  const settleIdleWaiters = (): void => {
    if (activeBatches > 0 || (queue.length > 0 && !fatal)) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  /** Starts batches while rows are queued and a slot is free. */
  const pump = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    while (queue.length > 0 && activeBatches < opts.maxConcurrentBatches && !fatal) {
      const batch = queue.splice(0, opts.maxRows);
      activeBatches++;
      const acked = writeBatch(batch, lastAcked);
      lastAcked = acked;
      void acked.then(() => {
        activeBatches--;
        // Rows that queued behind a full set of writes have waited already: they go at once.
        pump();
      });
    }
    settleIdleWaiters();
  };

  const flushNow = (): Promise<void> => {
    const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
    pump();
    return idle;
  };

  return {
    submit(outputs, onDurable) {
      if (closed) throw new Error('sink is closed');
      queue.push({ outputs, onDurable });
      inFlight++;
      // With every slot busy, a finishing write picks the queue up; otherwise start when the batch is full or due.
      if (activeBatches >= opts.maxConcurrentBatches) return;
      if (queue.length >= opts.maxRows) pump();
      else timer ??= setTimeout(pump, opts.intervalMs);
    },
    flush: () => flushNow(),
    pending: () => inFlight,
    async close() {
      closed = true;
      await flushNow();
    },
  };
}
