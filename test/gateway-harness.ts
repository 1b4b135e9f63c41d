/**
 * Gateways in the test process over one real worker core (actors, Kafka consumer group, Postgres, Redis):
 * each gateway claims some partitions of the core's pipeline, so that calls are answered locally, forwarded
 * between gateways over their internal endpoints, or degraded, exactly as between cluster workers. Ticks go
 * through the real prices topic. Models are small real forest forecasters promoted in the registry before any tick.
 */
import type { ExecutionContext } from 'ava';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ModelRegistry } from '../actors/model/registry.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import type { SqlStore } from '../connectors/postgres/sql-store.ts';
import { redisClient, type OnlineStore } from '../connectors/redis/online-store.ts';
import { redisOwnershipRegistry } from '../connectors/redis/ownership.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { startGateway, type Gateway } from '../gateway/server.ts';
import { fixedDirectory, parseTenants, sha256Hex } from '../gateway/tenants.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { PredictionServiceClient } from '../proto/gen/carbon/v1/prediction_service.ts';
import { openEdges } from '../supervisors/worker/edges.ts';
import { startWorkerCore, type WorkerCore } from '../supervisors/worker/worker-core.ts';
import { eventually } from './eventually.ts';
import { tinyForecasterModel } from './forecaster-fixture.ts';
import { KAFKA_BROKERS, REDIS_URL } from './services.ts';
import { testEnvironment, type TestEnvironment } from './cluster-harness.ts';

export const PARTITIONS = 6;
/** Commodities with a model in service. */
export const MODELLED = ['WTI', 'BRENT', 'HENRY_HUB', 'GOLD', 'COPPER', 'SILVER'] as const;
/** A commodity with ticks and no model. */
export const UNMODELLED = 'NICKEL';

/** Tokens of the test tenants: `all` reads everything, `wti` only WTI, `slow` one call a second. */
export const TOKENS = { all: 'token-all-0123456789', wti: 'token-wti-0123456789', slow: 'token-slow-0123456789' } as const;

export function tenantsJson(): string {
  return JSON.stringify({
    tenants: [
      { name: 'all', tokenSha256: [sha256Hex(TOKENS.all)], commodities: '*', ratePerSecond: 1_000_000 },
      { name: 'wti-only', tokenSha256: [sha256Hex(TOKENS.wti)], commodities: ['WTI'], ratePerSecond: 1_000_000 },
      { name: 'slow', tokenSha256: [sha256Hex(TOKENS.slow)], commodities: '*', ratePerSecond: 1, burst: 1 },
    ],
  });
}

/** Saves and promotes a tiny model for each commodity. */
export async function promoteModels(sql: SqlStore, commodities: readonly string[]): Promise<void> {
  const registry = new ModelRegistry(sqlModelStore(sql), undefined);
  for (const [i, c] of commodities.entries()) {
    const v = await registry.saveCandidate(tinyForecasterModel(c, i + 1));
    await registry.promote(v, { actor: 'gateway-test', reason: 'test model' });
  }
}

export interface GatewayWorld {
  readonly env: TestEnvironment;
  readonly sql: SqlStore;
  readonly online: OnlineStore;
  readonly core: WorkerCore;
  /** Ticks fed so far, per commodity (next offset per partition). */
  feed(commodity: string, ticks: number): Promise<void>;
  startGateway(partitions: readonly number[], extraEnv?: Record<string, string>): Promise<Gateway>;
}

export function client(port: number): PredictionServiceClient {
  return new PredictionServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

export function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

/** A unary call as a promise that resolves with the response or the ServiceError. */
export function call<Req, Res>(
  fn: (req: Req, md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
  deadlineMs = 5_000,
): Promise<{ ok: true; res: Res } | { ok: false; err: ServiceError }> {
  return new Promise((resolve) => {
    fn(req, md, { deadline: Date.now() + deadlineMs }, (err, res) => resolve(err ? { ok: false, err } : { ok: true, res }));
  });
}

export async function gatewayWorld(t: ExecutionContext): Promise<GatewayWorld> {
  const env = await testEnvironment(t, PARTITIONS);
  const baseEnv = { ...env.env, CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0', CARBON_OWNERSHIP_REFRESH: '200ms' };
  const config = loadConfig(baseEnv);
  const log = createLogger({ test: 'gateway' }, process.env.GATEWAY_TEST_LOGS ? undefined : () => undefined);
  const edges = await openEdges(config, log, 'cluster');
  t.teardown(() => edges.close());
  await promoteModels(edges.store, MODELLED);
  const core = await startWorkerCore(config, loadGatewayConfig(config, baseEnv), edges, undefined, log, (reason, err) => {
    log.error('worker_core_failed', { reason, err });
  });
  t.teardown(() => core.stop());
  await eventually(() => core.pipeline.ownedPartitions().length === PARTITIONS, { what: 'the consumer to own every partition', timeoutMs: 30_000, intervalMs: 50 });
  const publisher = await connectKafkaTickPublisher(createKafka(KAFKA_BROKERS, 'carbon-gateway-test'), { topic: env.topics.prices, maxMessageBytes: 64 * 1024, batchSize: 500 });
  t.teardown(() => publisher.close());

  const sent = new Map<string, number>();
  const series = new Map<string, { tsMs: number; price: number }[]>();
  const gateways: Gateway[] = [];
  const redisClients: ReturnType<typeof redisClient>[] = [];
  t.teardown(async () => {
    for (const g of gateways) await g.stop();
    for (const r of redisClients) await r.quit();
  });
  return {
    env,
    sql: edges.store,
    online: edges.online,
    core,
    async feed(commodity, ticks) {
      let s = series.get(commodity);
      if (!s) {
        s = ar1PriceSeries({ length: 2_000, phi: 0.2, seed: commodity.length * 7 + commodity.charCodeAt(0) });
        series.set(commodity, s);
      }
      const from = sent.get(commodity) ?? 0;
      await publisher.publish(s.slice(from, from + ticks).map((p) => ({ commodity, tsMs: p.tsMs, price: p.price, unit: 'USD', source: 'test:gateway' })));
      await publisher.flush();
      sent.set(commodity, from + ticks);
      await eventually(async () => (await edges.online.getLatest(commodity)).features?.tickCount === from + ticks, { what: `${from + ticks} ticks of ${commodity} processed`, timeoutMs: 60_000, intervalMs: 20 });
    },
    async startGateway(partitions, extraEnv = {}) {
      const gwEnv = { ...baseEnv, ...extraEnv };
      const g = await startGateway({
        config: loadGatewayConfig(loadConfig(gwEnv), gwEnv, gateways.length),
        partitionCount: PARTITIONS,
        pipeline: core.pipeline,
        online: edges.online,
        forecasters: core.models,
        horizons: [1, 5, 20],
        sql: edges.store,
        ownership: (self) => {
          const redis = redisClient(REDIS_URL);
          redisClients.push(redis);
          return redisOwnershipRegistry(redis, env.prefix, self);
        },
        log,
        tenants: fixedDirectory(parseTenants(tenantsJson())),
      });
      gateways.push(g);
      await g.assignmentChanged(partitions);
      return g;
    },
  };
}
