/**
 * A cluster worker process: the worker core on the real services, a member of the consumer group, shut down
 * cleanly on SIGTERM (stop fetching, hand every partition off, leave the group) within the shutdown timeout, and
 * the same way when its primary dies (node:cluster would exit it on the spot, leaving its partitions to wait out the
 * session timeout). It tells its primary its group member id and its supervision counts. An escalation out of the
 * actor tree, or a store that stays down, exits with EXIT_ESCALATED for the primary to restart it.
 */
import cluster from 'node:cluster';
import { partitionOf } from '../../connectors/partitioner.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { collectProcessMetrics } from '../../platform/metrics.ts';
import { isChaosCommand, type ChaosApplied } from '../cluster/chaos-command.ts';
import type { GroupMemberReport } from '../cluster/group-member-report.ts';
import { serveMetricsToPrimary } from '../cluster/metrics-aggregation.ts';
import { reportingSupervisionMetrics } from '../cluster/supervision-reports.ts';
import { platformSupervisionMetrics, useSupervisionMetrics } from '../supervise.ts';
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
  /** To the primary, while the channel is open (a worker outliving its primary hands off without one). */
  const toPrimary = (message: object): void => {
    if (process.connected) process.send?.(message);
  };
  if (process.send) {
    serveMetricsToPrimary();
    useSupervisionMetrics(reportingSupervisionMetrics(platformSupervisionMetrics, toPrimary));
  }
  const poison = config.chaosEnabled ? new PoisonTicks() : undefined;
  let pipelineForChaos: WorkerPipeline | undefined;
  let partitionCount = config.kafka.topicPartitions;
  if (poison) {
    // Listen from the start: a command sent while the worker connects must not be lost.
    process.on('message', (m: unknown) => {
      if (!isChaosCommand(m)) return;
      const applied = applyChaos(m, pipelineForChaos, poison, (c) => partitionOf(c, partitionCount), log);
      toPrimary({ type: 'carbon:chaos-applied', id: m.id, applied } satisfies ChaosApplied);
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
  const core = await startWorkerCore(config, gatewayConfig, edges, poison, log, fatal, (memberId) => toPrimary({ type: 'carbon:group-member', memberId } satisfies GroupMemberReport));
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
  if (cluster.worker) {
    // node:cluster exits a worker whose primary is gone at once unless it is marked as leaving on purpose: then it
    // hands its partitions off like on SIGTERM, and the workers of the primary's replacement start from its commits.
    cluster.worker.exitedAfterDisconnect = true;
    process.on('disconnect', () => void shutdown('primary_gone').catch((err: unknown) => fatal('shutdown_failed', err)));
  }
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
