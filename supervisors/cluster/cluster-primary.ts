/**
 * The cluster primary of `carbon start`: forks the workers, restarts any that exits (under workerProcessPolicy:
 * backoff and an intensity limit, past which the primary itself exits non-zero for Kubernetes to restart the
 * pod), serves the cluster-aggregated /metrics, and relays operator commands (chaos) to the workers. It holds no
 * business state: Kafka's group reassigns the partitions of a worker that is gone.
 */
import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { workerRestarts } from '../../platform/metrics.ts';
import { workerProcessPolicy } from '../policies.ts';
import { recordRestart } from '../restart-policy.ts';
import { clusterMetricsText } from './metrics-aggregation.ts';
import { startOpsServer } from './ops-http.ts';

/** Lifecycle of the primary. */
export type PrimaryState = 'running' | 'stopping' | 'failed';

/**
 * The workers' heap: semi-spaces of 8 MB instead of V8's 16, and an old generation allowed to grow to twice its
 * live size after a full collection instead of up to four times. Measured with `npm run bench -- pipeline` (1M
 * ticks at 25k/s): peak RSS per worker 237-249 MB against 369-383 MB with V8's defaults, the same throughput, and
 * minor pauses shorter (a worker's young generation is mostly ticks in flight, copied at every scavenge).
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

export interface PrimaryOptions {
  readonly config: Config;
  readonly log: Logger;
  /** The worker entry module (run by cluster.fork through the same loader). */
  readonly workerArgs: readonly string[];
}

export async function runClusterPrimary(opts: PrimaryOptions): Promise<number> {
  const { config, log } = opts;
  let state: PrimaryState = 'running';
  let restartHistory: readonly number[] = [];
  const slots = new Map<number, Worker>();

  // CARBON_WORKER_NODE_ARGS adds node flags to the workers only (e.g. --cpu-prof for profiling a worker); they
  // come after WORKER_V8_FLAGS, so a flag given there wins.
  const extraNodeArgs = (process.env.CARBON_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  cluster.setupPrimary({ args: [...opts.workerArgs], execArgv: [...process.execArgv, ...WORKER_V8_FLAGS, ...extraNodeArgs] });

  const fork = (slot: number): void => {
    const worker = cluster.fork({ CARBON_WORKER_SLOT: String(slot) });
    slots.set(slot, worker);
    log.info('worker_forked', { slot, workerPid: worker.process.pid });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
    // An IPC write to a worker that is dying fails asynchronously; the exit handler above deals with the worker.
    worker.on('error', (err) => log.warn('worker_channel_error', { slot, err }));
  };

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null): void => {
    if (slots.get(slot) === worker) slots.delete(slot);
    if (state !== 'running') {
      if (slots.size === 0) resolveDone(state === 'failed' ? 1 : 0);
      return;
    }
    const reason = signal ? signal.toLowerCase() : `exit_${code ?? 'unknown'}`;
    const verdict = recordRestart(workerProcessPolicy, restartHistory, performance.now());
    restartHistory = verdict.history;
    if (!verdict.allowed) {
      log.error('worker_restarts_exhausted', { slot, reason, intensity: workerProcessPolicy.intensity, periodMs: workerProcessPolicy.periodMs });
      state = 'failed';
      stopAll();
      return;
    }
    workerRestarts.inc({ reason });
    log.warn('worker_exited', { slot, reason, restartInMs: verdict.delayMs, restartsInPeriod: verdict.history.length });
    setTimeout(() => {
      if (state === 'running') fork(slot);
    }, verdict.delayMs);
  };

  const stopAll = (): void => {
    if (slots.size === 0) {
      resolveDone(state === 'failed' ? 1 : 0);
      return;
    }
    for (const w of slots.values()) w.process.kill('SIGTERM');
    // A worker that does not drain in time is killed; Kafka redelivers what it had not committed.
    setTimeout(() => {
      for (const w of slots.values()) w.process.kill('SIGKILL');
    }, config.cluster.shutdownTimeoutMs + 1_000).unref();
  };

  const server = await startOpsServer(config.cluster.metricsHost, config.cluster.metricsPort, {
    metricsText: () => clusterMetricsText(slots, ['carbon_worker_restarts_total']),
    health: () => ({
      healthy: state === 'running',
      body: { state, workers: slots.size, expected: config.cluster.workers, pids: [...slots.values()].map((w) => w.process.pid) },
    }),
    chaos: config.chaosEnabled
      ? (command) => {
          for (const w of slots.values()) w.send(command);
          return slots.size;
        }
      : undefined,
  }, log);
  log.info('primary_started', { workers: config.cluster.workers, metrics: `http://${config.cluster.metricsHost}:${config.cluster.metricsPort}/metrics` });

  const shutdown = (signal: string): void => {
    if (state !== 'running') return;
    log.info('primary_stopping', { signal });
    state = 'stopping';
    stopAll();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  for (let slot = 0; slot < config.cluster.workers; slot++) fork(slot);
  const code = await done;
  await server.close();
  log.info('primary_stopped', { code });
  return code;
}
