/**
 * The gateway end to end on a real `carbon start` cluster (two worker processes, Kafka, Postgres, Redis), with a
 * client built from the generated stubs: the real WTI, Brent and Henry Hub series fed through the prices topic,
 * a model trained on the feature store and promoted (announced on model-updates) for each, then:
 * - every commodity answered from either worker (connections spread by node:cluster) with the owner's
 *   prediction: LOCAL on its owner, FORWARDED on the other, equal to the last prediction stored;
 * - StreamPredictions delivering the predictions of ticks as they are ingested;
 * - health and reflection through the public port;
 * - SIGSTOP of the worker owning WTI: its peer waits the owner budget once, then answers DEGRADED at once (the
 *   stopped worker answers no ping) and routes exactly again once the worker runs again;
 * - SIGKILL of the worker owning WTI: Predict keeps answering (DEGRADED for its commodities until the group
 *   reassigns them), and once the group has rebalanced and the primary has restarted the worker, routing is
 *   exact again.
 */
import test, { type ExecutionContext } from 'ava';
import { credentials, loadPackageDefinition, Metadata, status, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { createLogger } from '../platform/logger.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { PredictionServiceClient, ServingPath, type PredictResponse, type StreamPredictionsResponse } from '../proto/gen/carbon/v1/prediction_service.ts';
import { startCluster, testEnvironment, tickPublisher, type TestEnvironment, processExited } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { REAL_SERIES, seriesTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';
import { KAFKA_BROKERS } from './services.ts';

const COMMODITIES = REAL_SERIES.map((s) => s.commodity);
/** Ticks of each series fed before training, and after it (each of those gets a prediction). */
const TRAIN_TICKS = 1_200;
const SERVE_TICKS = 60;
const quiet = createLogger({}, () => undefined);

/** The last TRAIN_TICKS + SERVE_TICKS + 20 days of each real series, interleaved by date as a live feed delivers them. */
function feedTicks(): PriceTick[][] {
  const per = REAL_SERIES.map((s) => seriesTicks(s.commodity, s.file).slice(-(TRAIN_TICKS + SERVE_TICKS + 20)));
  const byDate = (rows: PriceTick[]) => rows.sort((a, b) => a.tsMs - b.tsMs || a.commodity.localeCompare(b.commodity));
  return [
    byDate(per.flatMap((s) => s.slice(0, TRAIN_TICKS))),
    byDate(per.flatMap((s) => s.slice(TRAIN_TICKS, TRAIN_TICKS + SERVE_TICKS))),
    byDate(per.flatMap((s) => s.slice(TRAIN_TICKS + SERVE_TICKS))),
  ];
}

type Answer = { ok: true; res: PredictResponse } | { ok: false; err: ServiceError };

/** Clients on distinct connections: each has its own subchannel pool, so node:cluster may hand it to either worker. */
function openClients(address: string, n: number): PredictionServiceClient[] {
  return Array.from({ length: n }, (_, i) => new PredictionServiceClient(address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.primary_user_agent': `carbon-gateway-cluster-test/${i}`,
  }));
}

/** Waits for exact routing, logging what was still wrong when it does not come. */
async function exactRouting(t: ExecutionContext, env: TestEnvironment, address: string, what: string): Promise<void> {
  let problems: string[] = [];
  try {
    await eventually(async () => {
      problems = await routingProblems(env, address);
      return problems.length === 0;
    }, { what, timeoutMs: 90_000, intervalMs: 500 });
  } catch (err) {
    t.log(problems.join('\n'));
    throw err;
  }
}


function predict(c: PredictionServiceClient, commodity: string, waitForReady = false): Promise<Answer> {
  return new Promise((resolve) => {
    c.predict({ commodity, acceptStale: true }, new Metadata({ waitForReady }), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res) => {
      resolve(err ? { ok: false, err } : { ok: true, res });
    });
  });
}

/** An UNAVAILABLE that no gateway sent (no carbon-error-code trailer): the connection itself failed. */
function isTransportFailure(a: Answer): boolean {
  return !a.ok && a.err.code === status.UNAVAILABLE && (a.err.metadata?.get('carbon-error-code').length ?? 0) === 0;
}

/**
 * Predict as a client does across a worker's death: a call caught on the connection to the dying worker fails
 * in transport (ECONNRESET) and is retried once the channel has reconnected (to a live worker); any answer of a
 * gateway, success or error, is returned as it is.
 */
async function predictAcrossFailover(c: PredictionServiceClient, commodity: string, transportRetries: { count: number }): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const a = await predict(c, commodity, true);
    if (!isTransportFailure(a) || attempt === 3) return a;
    transportRetries.count++;
  }
}

/** The last stored prediction of `commodity` (the owner's latest once the pipeline is idle). */
async function storedLatest(env: TestEnvironment, commodity: string): Promise<{ tickTsMs: number; modelVersion: number; predictedReturn: number }> {
  const { rows } = await env.db.query<{ tick_ts_ms: string; model_version: string; predicted_return: number }>(
    'SELECT tick_ts_ms, model_version, predicted_return FROM predictions WHERE commodity = $1 ORDER BY tick_ts_ms DESC LIMIT 1', [commodity]);
  const r = rows[0];
  if (!r) throw new Error(`no stored prediction of ${commodity}`);
  return { tickTsMs: Number(r.tick_ts_ms), modelVersion: Number(r.model_version), predictedReturn: Number(r.predicted_return) };
}

const pathName = (p: ServingPath | undefined) => (p === undefined ? 'none' : ServingPath[p]);

/**
 * Asks every commodity over several fresh connections (spread over the workers by the primary); exact when each
 * commodity was answered LOCAL by its owner and FORWARDED by the other worker, every answer carrying the same
 * prediction, the stored latest one. Returns what is wrong.
 */
async function routingProblems(env: TestEnvironment, address: string): Promise<string[]> {
  const clients = openClients(address, 6);
  try {
    return await routingProblemsOf(env, clients);
  } finally {
    for (const c of clients) c.close();
  }
}

async function routingProblemsOf(env: TestEnvironment, clients: readonly PredictionServiceClient[]): Promise<string[]> {
  const problems: string[] = [];
  for (const commodity of COMMODITIES) {
    const stored = await storedLatest(env, commodity);
    const answers = await Promise.all(clients.map((c) => predict(c, commodity)));
    const paths = new Set<string>();
    const owners = new Set<string>();
    let first: Prediction | undefined;
    for (const a of answers) {
      if (!a.ok) {
        problems.push(`${commodity}: ${status[a.err.code]} ${a.err.details}`);
        continue;
      }
      const { prediction, meta } = a.res;
      paths.add(pathName(meta?.path));
      owners.add(meta?.owner ?? '');
      first ??= prediction;
      if (JSON.stringify(prediction) !== JSON.stringify(first)) problems.push(`${commodity}: answers differ`);
      if (prediction?.tickTsMs !== stored.tickTsMs || prediction.modelVersion !== stored.modelVersion || prediction.predictedReturn !== stored.predictedReturn) {
        problems.push(`${commodity}: ${pathName(meta?.path)} answer (tick ${prediction?.tickTsMs}, v${prediction?.modelVersion}) is not the owner's latest (tick ${stored.tickTsMs}, v${stored.modelVersion})`);
      }
    }
    if (!paths.has('SERVING_PATH_LOCAL') || !paths.has('SERVING_PATH_FORWARDED') || paths.size !== 2) problems.push(`${commodity}: paths ${[...paths].join(', ')} (want LOCAL from its owner and FORWARDED from the other worker)`);
    if (owners.size !== 1 || owners.has('')) problems.push(`${commodity}: owners ${[...owners].join(', ')} (want the one owner)`);
  }
  return problems;
}

async function listServices(address: string): Promise<string[]> {
  const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
  const refl = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as GrpcObject;
  const Reflection = (((refl.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject).ServerReflection as ServiceClientConstructor;
  const rc = new Reflection(address, credentials.createInsecure()) as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, object>; close(): void };
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = rc.ServerReflectionInfo();
      stream.on('data', (m: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((m.list_services_response?.service ?? []).map((s) => s.name).sort());
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
  } finally {
    rc.close();
  }
}

async function healthOf(address: string, service: string): Promise<string> {
  const health = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as GrpcObject;
  const Health = ((health.grpc as GrpcObject).health as GrpcObject).v1 as GrpcObject;
  const hc = new (Health.Health as ServiceClientConstructor)(address, credentials.createInsecure()) as unknown as {
    Check(req: { service: string }, opts: { deadline: number }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
    close(): void;
  };
  try {
    return await new Promise((resolve) => hc.Check({ service }, { deadline: Date.now() + 5_000 }, (err, res) => resolve(err ? `error ${status[err.code]}` : res.status)));
  } finally {
    hc.close();
  }
}

function pidOfOwner(owner: string): number {
  const pid = Number(owner.split(':')[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`owner ${owner} names no pid`);
  return pid;
}

test('two workers answer every commodity with its owner\'s prediction, stream live predictions, skip a stopped worker, and route exactly again after a worker is killed', async (t) => {
  const env = await testEnvironment(t, 6);
  t.timeout(300_000);
  const cluster = await startCluster(t, env, { CARBON_OWNERSHIP_REFRESH: '250ms' });
  const publisher = await tickPublisher(t, env);
  const [beforeTraining, serving, live] = feedTicks() as [PriceTick[], PriceTick[], PriceTick[]];

  // Features to train on, then one model per commodity put in service through the registry and model-updates.
  await streamTicks(publisher, beforeTraining, 2_000, 0);
  await waitForRows(env, beforeTraining.length);
  const store = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(KAFKA_BROKERS, 'carbon-test-gateway-cluster'));
  t.teardown(async () => {
    await producer.close();
    await store.close();
  });
  const registry = new ModelRegistry(sqlModelStore(store), modelUpdatePublisher(producer, env.topics.modelUpdates));
  // Every commodity gets a champion (no_change when nothing beats it), so every one is served.
  const params = resolveTrainParams({ horizons: [1], forest: { trees: 10, maxDepth: 5, seed: 7 } });
  const outcomes = await trainCommodities(COMMODITIES, params, { sql: store, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'test' });
  for (const o of outcomes) if (!o.ok) return t.fail(`training ${o.commodity} failed: ${o.error.message}`);
  await eventually(async () => (await cluster.metric('carbon_model_swaps_total')) >= COMMODITIES.length, { what: 'both workers\' replicas of the promoted models', timeoutMs: 30_000, intervalMs: 200 });
  await streamTicks(publisher, serving, 500, 0);
  await waitForRows(env, beforeTraining.length + serving.length);
  await eventually(async () => {
    const { rows } = await env.db.query<{ n: string }>('SELECT count(DISTINCT commodity) AS n FROM predictions');
    return Number(rows[0]?.n) === COMMODITIES.length;
  }, { what: 'stored predictions of every commodity', timeoutMs: 30_000, intervalMs: 200 });

  // Every commodity from either worker: several connections, until each commodity has come back both ways.
  await exactRouting(t, env, cluster.grpcAddress, 'every commodity answered by its owner (LOCAL) and the other worker (FORWARDED)');
  t.deepEqual(await routingProblems(env, cluster.grpcAddress), [], 'exact routing with both workers up');
  // Connections held across the kill below: some of them go to the worker that dies.
  const clients = openClients(cluster.grpcAddress, 6);
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  t.deepEqual((await Promise.all(clients.map((c) => predict(c, 'WTI')))).filter((a) => !a.ok).length, 0);

  // Health and reflection through the public port, with nothing but the server.
  t.is(await healthOf(cluster.grpcAddress, ''), 'SERVING');
  t.is(await healthOf(cluster.grpcAddress, 'carbon.v1.PredictionService'), 'SERVING');
  t.deepEqual(await listServices(cluster.grpcAddress), ['carbon.v1.PredictionService', 'grpc.health.v1.Health']);

  // Live predictions of ticks as they are ingested, on a stream of the three commodities.
  const received: StreamPredictionsResponse[] = [];
  const stream = clients[0]!.streamPredictions({ commodities: COMMODITIES }, new Metadata(), { deadline: Date.now() + 120_000 });
  stream.on('data', (m: StreamPredictionsResponse) => received.push(m));
  const streamEnded = new Promise<number>((resolve) => stream.on('error', (e: ServiceError) => resolve(e.code)));
  await eventually(() => new Set(received.map((m) => m.prediction?.commodity)).size === COMMODITIES.length, { what: 'the latest prediction of each followed commodity', timeoutMs: 15_000, intervalMs: 50 });
  const firstLive = Math.min(...live.map((k) => k.tsMs));
  await streamTicks(publisher, live, COMMODITIES.length, 300);
  const lastLive = new Map(COMMODITIES.map((c) => [c, Math.max(...live.filter((k) => k.commodity === c).map((k) => k.tsMs))]));
  await eventually(() => COMMODITIES.every((c) => received.some((m) => m.prediction?.commodity === c && m.prediction.tickTsMs === lastLive.get(c))), {
    what: 'the prediction of the last live tick of each commodity on the stream', timeoutMs: 30_000, intervalMs: 50,
  });
  const liveReceived = received.filter((m) => (m.prediction?.tickTsMs ?? 0) >= firstLive);
  t.true(liveReceived.length >= COMMODITIES.length * 2, `several live predictions per commodity (${liveReceived.length})`);
  const order = COMMODITIES.map((c) => liveReceived.filter((m) => m.prediction?.commodity === c).map((m) => m.prediction?.tickTsMs ?? 0));
  t.true(order.every((ts) => ts.every((v, i) => i === 0 || v > (ts[i - 1] ?? 0))), 'newer ticks only, in order, per commodity');
  stream.cancel();
  t.is(await streamEnded, status.CANCELLED);
  await waitForRows(env, beforeTraining.length + serving.length + live.length);

  // SIGSTOP of the worker that owns WTI, for less than the session timeout: it keeps its partitions but answers
  // nothing. Its peer waits the owner budget once, then answers degraded at once until the owner answers a ping.
  const asked = await Promise.all(clients.map(async (c) => ({ c, a: await predict(c, 'WTI') })));
  const onPeer = asked.find(({ a }) => a.ok && a.res.meta?.path === ServingPath.SERVING_PATH_FORWARDED);
  const stopped = asked.find(({ a }) => a.ok && a.res.meta?.path === ServingPath.SERVING_PATH_LOCAL);
  if (!onPeer?.a.ok || !stopped?.a.ok) return t.fail('the held connections do not reach both workers');
  const stoppedPid = pidOfOwner(stopped.a.res.meta?.owner ?? '');
  process.kill(stoppedPid, 'SIGSTOP');
  const whileStopped: Answer[] = [];
  try {
    for (let i = 0; i < 10; i++) whileStopped.push(await predict(onPeer.c, 'WTI'));
  } finally {
    process.kill(stoppedPid, 'SIGCONT');
  }
  const reasons = whileStopped.map((a) => (a.ok ? `${pathName(a.res.meta?.path)} ${a.res.meta?.degradedReason}` : `${status[a.err.code]} ${a.err.details}`));
  t.log(reasons.join('\n'));
  t.true(reasons.every((r) => r.startsWith('SERVING_PATH_DEGRADED ')), 'every call answered, degraded');
  t.regex(reasons[0] ?? '', /no answer within \d+ ms/, 'the first call waits the owner budget');
  t.true(reasons.filter((r) => r.includes('unresponsive: it left a question unanswered')).length >= 8, 'the calls after it are not forwarded');
  await exactRouting(t, env, cluster.grpcAddress, 'exact routing once the stopped worker runs again');
  t.true((await cluster.metric('carbon_grpc_degraded_answers_total', { cause: 'owner_unresponsive' })) >= 8, 'the calls not forwarded are counted by cause');

  // SIGKILL of the worker that owns WTI.
  const wti = await predict(clients[0]!, 'WTI');
  if (!wti.ok) return t.fail(`WTI: ${wti.err.message}`);
  const victim = pidOfOwner(wti.res.meta?.owner ?? '');
  const pidsBefore = await cluster.workerPids();
  t.true(pidsBefore.includes(victim), `the owner ${victim} is a worker of the cluster (${pidsBefore.join(', ')})`);
  process.kill(victim, 'SIGKILL');
  await processExited(victim);

  // Until the group notices (session timeout 3 s), the victim's partitions have no live owner: every call is still
  // answered, degraded for its commodities, with the last stored prediction. Connections to the victim are gone;
  // the clients reconnect (waitForReady) and the primary hands them to the survivor; no gateway ever refuses.
  const afterKill: Answer[] = [];
  const transportRetries = { count: 0 };
  for (const c of clients) for (const commodity of COMMODITIES) afterKill.push(await predictAcrossFailover(c, commodity, transportRetries));
  t.log(`${transportRetries.count} call(s) caught on a connection to the killed worker, retried after reconnecting`);
  t.deepEqual(afterKill.filter((a) => !a.ok).map((a) => (a.ok ? '' : `${status[a.err.code]} ${a.err.details}`)), [], 'every call answered');
  const wtiAnswers = afterKill.flatMap((a) => (a.ok && a.res.prediction?.commodity === 'WTI' ? [a.res] : []));
  t.true(wtiAnswers.some((r) => r.meta?.path === ServingPath.SERVING_PATH_DEGRADED && r.meta.degraded), `WTI answered degraded while its owner is gone (${wtiAnswers.map((r) => pathName(r.meta?.path)).join(', ')})`);
  const storedWti = await storedLatest(env, 'WTI');
  t.true(wtiAnswers.every((r) => r.prediction?.tickTsMs === storedWti.tickTsMs && r.prediction.modelVersion === storedWti.modelVersion), 'the last durable prediction');

  // The group rebalances, the primary restarts the worker, and the restarted worker takes partitions back.
  await eventually(async () => {
    const pids = await cluster.workerPids();
    return pids.length === 2 && !pids.includes(victim);
  }, { what: 'the primary to restart the killed worker', timeoutMs: 60_000, intervalMs: 200 });
  await exactRouting(t, env, cluster.grpcAddress, 'exact routing again after the rebalance');
  t.deepEqual(await routingProblems(env, cluster.grpcAddress), [], 'exact routing after the rebalance');
  t.true((await cluster.metric('carbon_grpc_calls_total', { path: 'degraded' })) > 0, 'degraded answers are counted');
  t.true((await cluster.metric('carbon_grpc_calls_total', { path: 'forwarded' })) > 0, 'forwarded answers are counted');
});
