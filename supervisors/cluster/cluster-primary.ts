/**
 * The cluster primary of `carbon start`: checks that Kafka, Postgres and Redis answer (naming any that does not,
 * before a worker is forked), forks the workers, restarts any that exits (under workerProcessPolicy: backoff and
 * an intensity limit, past which the primary itself exits non-zero for Kubernetes to restart the pod; a worker
 * stopped by a configuration error is not restarted: it would fail the same way), serves the cluster-aggregated
 * /metrics and /status, prints the status line, and relays operator commands (chaos) to the workers. It holds
 * no business state: Kafka's group reassigns the partitions of a worker that is gone.
 */
import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { createKafka } from '../../connectors/kafka/client.ts';
import { groupMembers } from '../../connectors/kafka/group-members.ts';
import { ensureReachable, kafkaCheck, postgresCheck, redisCheck } from '../../connectors/reachability.ts';
import { EXIT_CONFIG, type ClusterServices, type Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { workerRestarts } from '../../platform/metrics.ts';
import { workerProcessPolicy } from '../policies.ts';
import { recordRestart } from '../restart-policy.ts';
import { startStatusLine } from '../status-line.ts';
import { isChaosApplied, type ChaosCommand } from './chaos-command.ts';
import { isGroupMemberReport } from './group-member-report.ts';
import { clusterMetrics } from './metrics-aggregation.ts';
import { startOpsServer } from './ops-http.ts';
import { CarriedSupervisionCounts, isSupervisionReport } from './supervision-reports.ts';
import { withRestart, type PrimaryState, type PrimaryStatus, type RestartRecord, type WorkerStatus } from './primary-status.ts';

/**
 * The workers' heap: semi-spaces of 8 MB instead of V8's 16, and an old generation allowed to grow to twice its
 * live size after a full collection instead of up to four times. Measured with `npm run bench -- pipeline` (1M
 * ticks at 25k/s): peak RSS per worker 237-249 MB against 369-383 MB with V8's defaults, the same throughput, and
 * minor pauses shorter (a worker's young generation is mostly ticks in flight, copied at every scavenge).
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

export interface PrimaryOptions {
  readonly config: Config;
  /** Checked by the caller before anything was loaded (clusterServices): a missing one stops a start at once. */
  readonly services: ClusterServices;
  readonly log: Logger;
  /** The worker entry module (run by cluster.fork through the same loader). */
  readonly workerArgs: readonly string[];
}

/** Metrics of the primary's own registry that go into the cluster's aggregate. */
const PRIMARY_METRICS = ['carbon_worker_restarts_total'];

/** The status line's period. */
const STATUS_PERIOD_MS = 5_000;

/** How long the chaos control waits for each worker to say whether it acted. */
const CHAOS_ANSWER_MS = 2_000;

/** Sends a chaos command to one worker; resolves with whether it acted (false when it does not answer in time). */
function askChaos(w: Worker, command: ChaosCommand): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const done = (applied: boolean): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve(applied);
    };
    const timer = setTimeout(() => done(false), CHAOS_ANSWER_MS);
    function onMessage(m: unknown): void {
      if (isChaosApplied(m) && m.id === command.id) done(m.applied);
    }
    w.on('message', onMessage);
    if (w.isDead() || !w.isConnected()) done(false);
    else w.send(command, undefined, {}, (err) => { if (err) done(false); });
  });
}

export async function runClusterPrimary(opts: PrimaryOptions): Promise<number> {
  const { config, services, log } = opts;
  const checks = [kafkaCheck(services.kafkaBrokers), postgresCheck(services.databaseUrl), redisCheck(services.redisUrl)];
  log.info('checking_services', { ...Object.fromEntries(checks.map((c) => [c.service.toLowerCase(), c.address])), timeoutMs: config.connectTimeoutMs });
  const checkStartedMs = performance.now();
  // Throws ServicesUnreachableError naming each service that did not answer: nothing was forked yet.
  await ensureReachable(checks, config.connectTimeoutMs);
  log.info('services_reachable', { ms: Math.round(performance.now() - checkStartedMs) });

  let state: PrimaryState = 'running';
  /** The exit status when the workers are gone: 0 after a signal, 1 when restarts are exhausted, 2 for a configuration error. */
  let exitCode = 0;
  const startedAtMs = Date.now();
  let restartHistory: readonly number[] = [];
  let recentRestarts: readonly RestartRecord[] = [];
  const slots = new Map<number, Worker>();
  const slotInfo = new Map<number, { startedAtMs: number; restarts: number }>();
  /** Each slot's worker's member id in the consumer group, as it last reported it. */
  const memberOf = new Map<number, string>();
  const carried = new CarriedSupervisionCounts();
  const members = groupMembers(createKafka(services.kafkaBrokers, `${config.kafka.clientId}-primary-${process.pid}`), config.kafka.groupId);

  // CARBON_WORKER_NODE_ARGS adds node flags to the workers only (e.g. --cpu-prof for profiling a worker); they
  // come after WORKER_V8_FLAGS, so a flag given there wins.
  const extraNodeArgs = (process.env.CARBON_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  cluster.setupPrimary({ args: [...opts.workerArgs], execArgv: [...process.execArgv, ...WORKER_V8_FLAGS, ...extraNodeArgs] });

  const fork = (slot: number): void => {
    const worker = cluster.fork({ CARBON_WORKER_SLOT: String(slot) });
    slots.set(slot, worker);
    const previous = slotInfo.get(slot);
    slotInfo.set(slot, { startedAtMs: Date.now(), restarts: previous === undefined ? 0 : previous.restarts + 1 });
    log.info('worker_forked', { slot, workerPid: worker.process.pid });
    worker.on('message', (m: unknown) => {
      if (isGroupMemberReport(m)) memberOf.set(slot, m.memberId);
      else if (isSupervisionReport(m)) carried.record(slot, m);
    });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
    // An IPC write to a worker that is dying fails asynchronously; the exit handler above deals with the worker.
    worker.on('error', (err) => log.warn('worker_channel_error', { slot, err }));
  };

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  /**
   * A worker that exited without leaving the group (killed, crashed, or escalated) would keep its partitions until
   * its session times out: it is removed now, so that the others take its partitions at their next heartbeat.
   */
  const removeMember = (slot: number): void => {
    const memberId = memberOf.get(slot);
    if (memberId === undefined) return;
    memberOf.delete(slot);
    const started = performance.now();
    members.remove(memberId).then(
      (outcome) => log.info('group_member_removed', { slot, memberId, outcome, ms: Math.round(performance.now() - started) }),
      (err: unknown) => log.warn('group_member_remove_failed', { slot, memberId, err, effect: 'its partitions move when its session times out' }),
    );
  };

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null): void => {
    if (slots.get(slot) === worker) slots.delete(slot);
    carried.retire(slot);
    // A clean exit left the group itself (it handed its partitions off first).
    if (code !== 0 || signal !== null) removeMember(slot);
    else memberOf.delete(slot);
    if (state !== 'running') {
      if (slots.size === 0) resolveDone(exitCode);
      return;
    }
    const reason = signal ? signal.toLowerCase() : `exit_${code ?? 'unknown'}`;
    recentRestarts = withRestart(recentRestarts, { slot, reason, atMs: Date.now() });
    if (code === EXIT_CONFIG) {
      // Its configuration error is in its own last lines; a restart would meet it again.
      log.error('worker_config_invalid', { slot, hint: 'the worker stopped on a configuration error (see its message above); not restarted' });
      state = 'failed';
      exitCode = EXIT_CONFIG;
      stopAll();
      return;
    }
    const verdict = recordRestart(workerProcessPolicy, restartHistory, performance.now());
    restartHistory = verdict.history;
    if (!verdict.allowed) {
      log.error('worker_restarts_exhausted', { slot, reason, intensity: workerProcessPolicy.intensity, periodMs: workerProcessPolicy.periodMs });
      state = 'failed';
      exitCode = 1;
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
      resolveDone(exitCode);
      return;
    }
    for (const w of slots.values()) w.process.kill('SIGTERM');
    // A worker that does not drain in time is killed; Kafka redelivers what it had not committed.
    setTimeout(() => {
      for (const w of slots.values()) w.process.kill('SIGKILL');
    }, config.cluster.shutdownTimeoutMs + 1_000).unref();
  };

  const status = startStatusLine({
    periodMs: STATUS_PERIOD_MS,
    read: async () => (await clusterMetrics(slots, PRIMARY_METRICS, [carried.registry])).getMetricsAsJSON(),
    extra: () => ({ workers: { live: slots.size, expected: config.cluster.workers }, state }),
  });
  const primaryStatus = (): PrimaryStatus => ({
    state,
    pid: process.pid,
    startedAtMs,
    expectedWorkers: config.cluster.workers,
    workers: [...slots].map(([slot, w]): WorkerStatus => ({ slot, pid: w.process.pid, startedAtMs: slotInfo.get(slot)?.startedAtMs ?? startedAtMs, restarts: slotInfo.get(slot)?.restarts ?? 0 }))
      .sort((a, b) => a.slot - b.slot),
    recentRestarts,
    line: status.latest()?.trimEnd(),
  });

  const server = await startOpsServer(config.cluster.metricsHost, config.cluster.metricsPort, {
    metricsText: async () => (await clusterMetrics(slots, PRIMARY_METRICS, [carried.registry])).metrics(),
    status: primaryStatus,
    health: () => ({
      healthy: state === 'running',
      body: { state, workers: slots.size, expected: config.cluster.workers, pids: [...slots.values()].map((w) => w.process.pid) },
    }),
    chaos: config.chaosEnabled
      ? async (command) => {
          const answers = await Promise.all([...slots.values()].map((w) => askChaos(w, command)));
          return { sent: answers.length, applied: answers.filter(Boolean).length };
        }
      : undefined,
  }, log);
  const ops = `http://${config.cluster.metricsHost}:${server.port}`;
  log.info('primary_started', { workers: config.cluster.workers, metrics: `${ops}/metrics`, status: `${ops}/status` });

  const shutdown = (signal: string): void => {
    if (state !== 'running') return;
    log.info('primary_stopping', { signal });
    state = 'stopping';
    stopAll();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  members.connect().catch((err: unknown) => log.warn('group_member_client_unavailable', { err, effect: 'the first removal of a dead worker connects first' }));
  for (let slot = 0; slot < config.cluster.workers; slot++) fork(slot);
  const code = await done;
  status.stop();
  await server.close();
  await members.close();
  log.info('primary_stopped', { code });
  return code;
}
