/**
 * Batches outputs and writes each batch to every store in parallel; a batch is durable when all writers resolved.
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
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let fatal = false;

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

  /**
   * One write at a time: while it runs, new outputs queue up and go together in the next write. Under load the
   * batches grow by themselves (fewer, larger transactions), at light load a row waits at most `intervalMs`.
   */
  let writing: Promise<void> | undefined;
  let idleWaiters: Array<() => void> = [];

  const writeQueued = async (): Promise<void> => {
    while (queue.length > 0 && !fatal) {
      const batch = queue.splice(0, opts.maxRows);
      const outputs = batch.map((e) => e.outputs);
      try {
        await Promise.all(opts.writers.map((w) => writeWithRetry(w, outputs)));
      } catch (err) {
        fatal = true;
        opts.onFatal(err);
        break;
      }
      inFlight -= batch.length;
      for (const e of batch) e.onDurable();
    }
  };

  const flushNow = (): Promise<void> => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (!writing) {
      writing = writeQueued().finally(() => {
        writing = undefined;
        if (queue.length > 0 && !fatal) void flushNow();
        else {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
    return new Promise<void>((resolve) => {
      if (!writing && queue.length === 0) resolve();
      else idleWaiters.push(resolve);
    });
  };

  return {
    submit(outputs, onDurable) {
      if (closed) throw new Error('sink is closed');
      queue.push({ outputs, onDurable });
      inFlight++;
      // A running write picks the queue up when it ends; otherwise start one when the batch is full or due.
      if (writing) return;
      if (queue.length >= opts.maxRows) void flushNow();
      else timer ??= setTimeout(() => void flushNow(), opts.intervalMs);
    },
    flush: () => flushNow(),
    pending: () => inFlight,
    async close() {
      closed = true;
      await flushNow();
    },
  };
}
