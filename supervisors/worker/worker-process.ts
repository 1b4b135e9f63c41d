/**
 * A cluster worker process: the worker core on the real services, a member of the consumer group, shut down
 * cleanly on SIGTERM (stop fetching, drain, flush, commit, disconnect) within the shutdown timeout. An escalation
 * out of the actor tree, or a sink that stays down, exits with EXIT_ESCALATED for the primary to restart it.
 */
import { partitionOf } from '../../connectors/kafka/tick-publisher.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { collectProcessMetrics } from '../../platform/metrics.ts';
import { isChaosCommand } from '../cluster/chaos-command.ts';
import { serveMetricsToPrimary } from '../cluster/metrics-aggregation.ts';
import { applyChaos, PoisonTicks } from './chaos.ts';
import { loadGatewayConfig } from '../../gateway/gateway-config.ts';
import { openEdges } from './edges.ts';
import { EXIT_ESCALATED, startWorkerCore } from './worker-core.ts';
import type { WorkerPipeline } from './worker-pipeline.ts';

/** Lifecycle of a worker process. */
export type WorkerState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface WorkerOptions {
  readonly config: Config;
  readonly log: Logger;
}

export async function runWorkerProcess({ config, log }: WorkerOptions): Promise<number> {
  let state: WorkerState = 'starting';
  collectProcessMetrics();
  if (process.send) serveMetricsToPrimary();
  const poison = config.chaosEnabled ? new PoisonTicks() : undefined;
  let pipelineForChaos: WorkerPipeline | undefined;
  let partitionCount = config.kafka.topicPartitions;
  if (poison) {
    // Listen from the start: a command sent while the worker connects must not be lost.
    process.on('message', (m: unknown) => {
      if (isChaosCommand(m)) applyChaos(m, pipelineForChaos, poison, (c) => partitionOf(c, partitionCount), log);
    });
  }

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const fatal = (reason: string, err: unknown): void => {
    if (state === 'failed') return;
    state = 'failed';
    log.error('worker_escalated', { reason, err });
    resolveExit(EXIT_ESCALATED);
  };

  const gatewayConfig = loadGatewayConfig(config);
  const edges = await openEdges(config, log, 'cluster');
  partitionCount = edges.partitionCount;
  const core = await startWorkerCore(config, gatewayConfig, edges, poison, log, fatal);
  pipelineForChaos = core.pipeline;

  const shutdown = async (signal: string): Promise<void> => {
    if (state !== 'running') return;
    state = 'draining';
    log.info('worker_draining', { signal, partitions: core.pipeline.ownedPartitions() });
    setTimeout(() => {
      log.error('worker_shutdown_timeout', { timeoutMs: config.cluster.shutdownTimeoutMs });
      resolveExit(1);
    }, config.cluster.shutdownTimeoutMs).unref();
    await core.stop();
    state = 'stopped';
    resolveExit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM').catch((err: unknown) => fatal('shutdown_failed', err)));
  process.on('SIGINT', () => void shutdown('SIGINT').catch((err: unknown) => fatal('shutdown_failed', err)));
  // SIGUSR2 switches the metering of gRPC calls off, and on again: the gRPC bench compares the same workers both ways.
  let metering = config.usage.metering;
  process.on('SIGUSR2', () => {
    metering = core.gateway.setMetering(!metering);
  });

  state = 'running';
  log.info('worker_running', { partitionCount, groupId: config.kafka.groupId, edges: edges.describe, grpc: core.gateway.port, internal: core.gateway.internalEndpoint });
  const code = await exited;
  await edges.close();
  log.info('worker_stopped', { code });
  return code;
}
