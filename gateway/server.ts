/**
 * The gateway of one worker: wiring only. The public server (PredictionService, health, reflection) on the
 * shared public port, the internal server (GatewayInternal) on this worker's own endpoint, the ownership view
 * published through `assignmentChanged`, and the router behind the handlers.
 *
 * In a node:cluster worker the public port is shared (the primary spreads connections); the internal endpoint
 * (internal-server.ts) is bound exclusively (internalPortBase + slot, or an ephemeral port), then published with
 * the partitions.
 * The embedded mode runs the same gateway with memoryOwnershipRegistry and every partition assigned to it.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ForecasterLookup } from '../actors/commodity/protocol.ts';
import type { ModelStore } from '../actors/model/registry.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { sqlTenantSource, tenantAdmin } from './tenant-store.ts';
import type { SqlStore } from '../connectors/postgres/sql-store.ts';
import type { OnlineStore } from '../connectors/redis/online-store.ts';
import type { OwnerIdentity, OwnershipRegistry } from '../connectors/redis/ownership.ts';
import type { Logger } from '../platform/logger.ts';
import type { UsageMeter } from '../platform/usage-meter.ts';
import { OwnerSnapshotOutcome } from '../proto/gen/carbon/v1/internal.ts';
import { PredictionServiceService } from '../proto/gen/carbon/v1/prediction_service.ts';
import { AuditLog } from './audit-log.ts';
import { Authenticator } from './authenticator.ts';
import { callAccounting } from './call-accounting.ts';
import { serverStream, unary, type WrapperDeps } from './call-wrapper.ts';
import { CommodityCatalog } from './commodity-catalog.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { getFeaturesHandler } from './handlers/get-features.ts';
import { listCommoditiesHandler } from './handlers/list-commodities.ts';
import { listModelsHandler } from './handlers/list-models.ts';
import { predictHandler } from './handlers/predict.ts';
import { streamPredictionsHandler } from './handlers/stream-predictions.ts';
import { addHealthAndReflection } from './health-and-reflection.ts';
import { listenInternal } from './internal-server.ts';
import { ownerRefusal, ownerSnapshotHandler, type OwnerSnapshotHandler } from './internal-service.ts';
import type { LocalPipeline } from './local-owner.ts';
import { ModelAges } from './model-ages.ts';
import { OwnerClients } from './owner-client.ts';
import { OwnershipView } from './ownership-view.ts';
import { PredictionFeed } from './prediction-feed.ts';
import { Router } from './router.ts';
import { meteredService } from './metered-service.ts';
import { rawRequests } from './raw-requests.ts';
import { LocalQuotas, type QuotaPort } from './quota.ts';
import { LiveTenantDirectory } from './tenant-directory.ts';
import { loadTenantsFile, localTenant, type TenantDirectory } from './tenants.ts';
import { TlsReloader } from './tls-reloader.ts';
import { peerTransport, serverCredentials } from './transport-credentials.ts';

/** Lifecycle: `serving` answers calls; `draining` refuses new ones (UNAVAILABLE) and reports NOT_SERVING; `stopped`. */
export type GatewayState = 'serving' | 'draining' | 'stopped';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  /** Partitions of the prices topic (the partitioner's modulus). */
  readonly partitionCount: number;
  /** The worker's pipeline (WorkerPipeline): actor snapshots of the partitions it owns. */
  readonly pipeline: LocalPipeline;
  readonly online: OnlineStore;
  /** This worker's forecasters, for degraded answers. */
  readonly forecasters: Pick<ForecasterLookup, 'servingFor'>;
  /** The horizons predictions are made at (CARBON_HORIZONS): any other is an invalid argument. */
  readonly horizons: readonly number[];
  /** Audit log, feature store (commodity list) and model registry. */
  readonly sql: SqlStore;
  /** The shared ownership table, made once the internal endpoint is known: redisOwnershipRegistry in a cluster. */
  readonly ownership: (self: OwnerIdentity) => OwnershipRegistry;
  readonly log: Logger;
  /** Tenants; default: those of the database (`sql`), followed live, seeded from the tokens file. */
  readonly tenants?: TenantDirectory;
  /** Rate limits; default: this process's own buckets (the whole quota: right when it is the only process). */
  readonly quotas?: QuotaPort;
  /** The worker's usage meter (per tenant); undefined: calls are not metered. */
  readonly meter?: UsageMeter;
  /** The registry's list; default: the SQL model store over `sql`. */
  readonly models?: Pick<ModelStore, 'list'>;
}

export interface Gateway {
  /** The public port actually bound. */
  readonly port: number;
  /** The plaintext health-only port bound, undefined when CARBON_GRPC_HEALTH_PORT is off. */
  readonly healthPort: number | undefined;
  /** host:port of this worker's internal endpoint, as published. */
  readonly internalEndpoint: string;
  readonly workerId: string;
  state(): GatewayState;
  /** Call on every assignment of the consumer group (see assignment-relay.ts). */
  assignmentChanged(partitions: readonly number[]): Promise<void>;
  /** Stops taking calls (UNAVAILABLE, health NOT_SERVING) and ends streams; the internal endpoint keeps answering. */
  drain(): void;
  /**
   * Turns usage metering of the calls that start from now on off or on, when the gateway was given a meter (the
   * gRPC bench measures the same workers both ways); returns whether calls are metered now.
   */
  setMetering(on: boolean): boolean;
  /** Drains, withdraws ownership, lets running calls finish (grace), closes everything. */
  stop(): Promise<void>;
}

/** Channelz (per-call tracing kept in memory for a channelz client) costs every call and nobody reads it here. */
const serverOptions = { 'grpc.enable_channelz': 0 };

/** grpc-js reads an absent option as "never"; 0 in our configuration means the same. */
function connectionOptions(config: GatewayConfig): Record<string, number> {
  return {
    ...(config.keepaliveMs > 0 && { 'grpc.keepalive_time_ms': config.keepaliveMs, 'grpc.keepalive_timeout_ms': config.keepaliveTimeoutMs }),
    ...(config.maxConnectionAgeMs > 0 && { 'grpc.max_connection_age_ms': config.maxConnectionAgeMs }),
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function bind(server: Server, host: string, port: number, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(host, port), credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** The tenants of the database, seeded from the bootstrap file, followed as they change. */
async function followTenants(config: GatewayConfig, sql: SqlStore, log: Logger): Promise<LiveTenantDirectory> {
  if (config.tokensFile !== undefined) {
    const imported = await tenantAdmin(sql).importMissing(loadTenantsFile(config.tokensFile), { actor: 'gateway', reason: `bootstrap from ${config.tokensFile}` });
    if (imported.length > 0) log.info('tenants_imported', { file: config.tokensFile, tenants: imported });
  }
  const local = config.anonymousAllowed ? localTenant(config.anonymousRatePerSecond, config.anonymousBurst) : undefined;
  const directory = new LiveTenantDirectory(sqlTenantSource(sql), local, log);
  await directory.start(config.tenantsRefreshMs);
  if (directory.tenants.length === 0 && local === undefined) log.warn('gateway_no_tenants', { hint: 'every call is refused until `carbon tenants add` makes one' });
  return directory;
}

export function gatewayWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, log } = deps;
  const workerId = gatewayWorkerId();
  let state: GatewayState = 'serving';
  let drained: () => void = () => undefined;
  const drainedPromise = new Promise<void>((resolve) => {
    drained = resolve;
  });

  // The router exists only once the endpoint is published; calls that come before are answered as not owned.
  let answerOwnerSnapshot: OwnerSnapshotHandler | undefined;
  const notYetOwner = ownerRefusal(workerId, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER);
  const tlsFiles = config.security.kind === 'tls' ? new TlsReloader(config.security.files, config.security, log) : undefined;
  tlsFiles?.start(config.tlsReloadMs);
  const internal = await listenInternal(config, tlsFiles, workerId, (request, deadlineMs) => answerOwnerSnapshot?.(request, deadlineMs) ?? Promise.resolve(notYetOwner), log);
  const internalPort = internal.port;
  const internalEndpoint = hostPort(config.advertisedHost, internalPort);
  const registry = deps.ownership({ workerId, endpoint: internalEndpoint });
  const peers = new OwnerClients(peerTransport(config, tlsFiles));
  const view = new OwnershipView(registry, deps.partitionCount, config.ownershipLeaseMs, config.ownershipRefreshMs, log, (owners) => {
    peers.retainOnly(new Set(owners.flatMap((o) => (o === undefined ? [] : [o.endpoint]))));
  });
  await view.start();

  const router = new Router({
    partitionCount: deps.partitionCount,
    pipeline: deps.pipeline,
    online: deps.online,
    forecasters: deps.forecasters,
    view,
    peers,
    workerId,
    ownerTimeoutMs: config.ownerTimeoutMs,
    log,
  });
  answerOwnerSnapshot = ownerSnapshotHandler({
    localState: (partition, commodity, timeoutMs) => router.localState(partition, commodity, timeoutMs),
    view,
    workerId,
    draining: () => state === 'stopped',
    ownerTimeoutMs: config.ownerTimeoutMs,
    log,
  });

  const audit = new AuditLog(deps.sql, workerId, log);
  const liveTenants = deps.tenants === undefined ? await followTenants(config, deps.sql, log) : undefined;
  const tenants = deps.tenants ?? (liveTenants as LiveTenantDirectory);
  const quotas = deps.quotas ?? new LocalQuotas();
  const auth = new Authenticator(tenants, quotas, (f) => audit.record(f));
  const ages = new ModelAges(deps.sql, log);
  const catalog = new CommodityCatalog(deps.sql);
  const feed = new PredictionFeed(router, catalog, config.streamPollMs, log);
  let metering = deps.meter !== undefined;
  const wrap: WrapperDeps = { auth, defaultDeadlineMs: config.defaultDeadlineMs, draining: () => state !== 'serving', log, meter: () => (metering ? deps.meter : undefined) };
  const rpc = PredictionServiceService;
  const handlers = {
    predict: unary(wrap, rpc.predict, predictHandler({ router, auth, ages, maxStalenessMs: config.maxStalenessMs, horizons: deps.horizons, registry: deps.sql })),
    getFeatures: unary(wrap, rpc.getFeatures, getFeaturesHandler({ router, auth, ages })),
    streamPredictions: serverStream(wrap, rpc.streamPredictions, streamPredictionsHandler({ feed, auth, ages, maxStalenessMs: config.maxStalenessMs, drained: drainedPromise, horizons: deps.horizons })),
    listCommodities: unary(wrap, rpc.listCommodities, listCommoditiesHandler({ catalog, online: deps.online, router })),
    listModels: unary(wrap, rpc.listModels, listModelsHandler({ models: deps.models ?? sqlModelStore(deps.sql), auth })),
  } satisfies Record<keyof typeof rpc, unknown>;

  // Call accounting first: it must be handed grpc-js's own call object (call-accounting.ts says why).
  const server = new Server({
    ...serverOptions, ...connectionOptions(config), 'grpc.max_receive_message_length': config.maxRequestBytes, interceptors: [callAccounting(rpc, config.defaultDeadlineMs)],
  });
  server.addService(rawRequests(deps.meter === undefined ? rpc : meteredService(rpc)), handlers);
  const health = addHealthAndReflection(server);
  const port = await bind(server, config.host, config.port, serverCredentials(config, tlsFiles));
  // Health only, in plaintext, for probes that cannot speak TLS (the kubelet's); shared by the cluster's workers.
  const healthServer = config.healthPort === 0 ? undefined : new Server({ ...serverOptions, 'grpc.max_receive_message_length': 1_024 });
  let healthPort: number | undefined;
  if (healthServer !== undefined) {
    health.addTo(healthServer);
    healthPort = await bind(healthServer, config.host, config.healthPort, ServerCredentials.createInsecure());
  }

  const tls = config.security.kind === 'plaintext' ? `plaintext (${config.security.reason})` : config.security.mutual ? 'mutual TLS' : 'TLS';
  audit.record({ actor: 'gateway', action: 'gateway.started', subject: workerId, details: { transport: tls, tenants: tenants.tenants.map((t) => t.name), anonymous: tenants.anonymous !== undefined, port, internalEndpoint } });
  log.info('gateway_started', { port, healthPort, internalEndpoint, transport: tls, tenants: tenants.tenants.length, workerId });

  const drain = (): void => {
    if (state !== 'serving') return;
    state = 'draining';
    health.setServing(false);
    drained();
    feed.stop();
    log.info('gateway_draining', { workerId });
  };

  return {
    port,
    healthPort,
    internalEndpoint,
    workerId,
    state: () => state,
    assignmentChanged: (partitions) => view.assignmentChanged(partitions),
    drain,
    setMetering(on) {
      metering = on && deps.meter !== undefined;
      log.info('gateway_metering', { metering, workerId });
      return metering;
    },
    async stop() {
      if (state === 'stopped') return;
      drain();
      await view.stop();
      state = 'stopped';
      const grpcServers = [server, ...(healthServer === undefined ? [] : [healthServer])];
      await Promise.all([
        internal.close(config.drainGraceMs),
        new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            for (const s of grpcServers) s.forceShutdown();
            resolve();
          }, config.drainGraceMs);
          force.unref();
          let open = grpcServers.length;
          const closed = () => {
            if (--open === 0) {
              clearTimeout(force);
              resolve();
            }
          };
          for (const s of grpcServers) s.tryShutdown(closed);
        }),
      ]);
      tlsFiles?.stop();
      await liveTenants?.stop();
      await quotas.close();
      peers.close();
      ages.close();
      await registry.close();
      await audit.close();
      log.info('gateway_stopped', { workerId });
    },
  };
}
