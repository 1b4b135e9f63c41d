/**
 * What every worker runs, whatever its edges: the actor system with the worker root, the batching sink over
 * the stores, and the partitions pipeline. The cluster worker and the embedded `npm start` differ only in the
 * edges they pass in (Kafka or the in-process bus, Postgres or PGlite, Redis or memory).
 */
import type { PoisonRules, ReplicaLookup } from '../../actors/commodity/protocol.ts';
import { batchingSink } from '../../actors/sinks/batching-sink.ts';
import { busSink } from '../../actors/sinks/kafka-sink.ts';
import { postgresSink } from '../../actors/sinks/postgres-sink.ts';
import { onlineStoreSink } from '../../actors/sinks/redis-sink.ts';
import type { SinkPort } from '../../actors/sinks/tick-outputs.ts';
import type { Topics } from '../../connectors/kafka/topics.ts';
import type { MessageProducer } from '../../connectors/message-bus.ts';
import { sqlHistoryStore } from '../../connectors/postgres/history-store.ts';
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import type { OnlineStore } from '../../connectors/redis/online-store.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { DeadLetterPort } from '../partition/dead-letters.ts';
import { workerRootPolicy } from '../policies.ts';
import type { CrashInfo } from '../supervise.ts';
import { spawnTyped, start, stopSystem, type AnyRef, type SystemRef } from '../typed-actors.ts';
import { WorkerPipeline } from './worker-pipeline.ts';

export interface WorkerEdges {
  readonly store: SqlStore;
  readonly online: OnlineStore;
  readonly producer: MessageProducer;
  readonly deadLetters: DeadLetterPort;
  readonly topics: Topics;
  readonly models: ReplicaLookup;
  readonly poison: PoisonRules | undefined;
}

export interface WorkerCore {
  readonly pipeline: WorkerPipeline;
  readonly sink: SinkPort;
  /** Finishes what is in flight, flushes the sink, stops the actors. */
  stop(): Promise<void>;
}

/** Exit status of a worker whose actor tree gave up (EX_SOFTWARE): the cluster primary restarts it. */
export const EXIT_ESCALATED = 70;

export function startWorkerCore(config: Config, edges: WorkerEdges, log: Logger, onFatal: (reason: string, err: unknown) => void): WorkerCore {
  const sink = batchingSink({
    writers: [postgresSink(edges.store), onlineStoreSink(edges.online), busSink(edges.producer, edges.topics)],
    maxRows: config.pipeline.flushMaxRows,
    intervalMs: config.pipeline.flushIntervalMs,
    giveUpAfterMs: 60_000,
    log,
    onFatal: (err) => onFatal('sink_unavailable', err),
  });
  const system: SystemRef = start({ name: `worker-${process.pid}` });
  const root = spawnTyped<null, never>(system, {
    name: 'worker',
    level: 'root',
    policy: workerRootPolicy,
    initialState: () => null,
    handle: (state) => state,
    escalateToProcess: (info: CrashInfo) => onFatal('supervision_exhausted', info.err),
  }) as AnyRef;
  const pipeline = new WorkerPipeline({
    root,
    maxInFlightPerPartition: config.pipeline.maxInFlightPerPartition,
    deps: {
      topic: edges.topics.prices,
      windowSize: config.pipeline.windowSize,
      zScoreThreshold: config.pipeline.zScoreThreshold,
      maxMessageBytes: config.pipeline.maxMessageBytes,
      poisonMaxTries: config.pipeline.poisonMaxTries,
      sink,
      history: sqlHistoryStore(edges.store),
      models: edges.models,
      poison: edges.poison,
      deadLetters: edges.deadLetters,
      log,
    },
  });
  return {
    pipeline,
    sink,
    async stop() {
      await pipeline.stop();
      await sink.close();
      stopSystem(system);
    },
  };
}
