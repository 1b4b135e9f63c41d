/**
 * The gateway's settings, read once from the environment with the platform's EnvReader and frozen.
 *
 * Transport rule: TLS when CARBON_TLS_CERT and CARBON_TLS_KEY name files (mutual TLS when CARBON_TLS_CA names
 * the CA that client certificates must chain to). Without them the gateway speaks plaintext only if it listens
 * on a loopback address (the local default, 127.0.0.1) or CARBON_GRPC_PLAINTEXT=true says so explicitly;
 * anything else stops the program with a ConfigError. Tenants and their tokens live in the database
 * (CARBON_TOKENS_FILE only seeds it); calls without a token are served (tenant `local`, every commodity) only on a
 * loopback address and only while no tenant exists.
 *
 * CARBON_GRPC_HEALTH_PORT (0 or absent: off) adds a plaintext listener serving grpc.health.v1 and nothing else,
 * on the public host: Kubernetes' gRPC probes cannot speak TLS, and health status is no secret.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError, EnvReader, type Config } from '../platform/config.ts';
import type { TlsFiles } from './tls-reloader.ts';

type Env = Record<string, string | undefined>;

export type TransportSecurity =
  | { readonly kind: 'plaintext'; readonly reason: 'loopback' | 'explicit' }
  | { readonly kind: 'tls'; readonly certPem: Buffer; readonly keyPem: Buffer; readonly caPem: Buffer | undefined; readonly mutual: boolean; readonly files: TlsFiles };

export interface GatewayConfig {
  /** Public address every worker serves (node:cluster workers share the port). */
  readonly host: string;
  readonly port: number;
  /** Plaintext health-only port (grpc.health.v1, for probes that cannot speak TLS); 0: none. */
  readonly healthPort: number;
  /** Internal endpoint of this worker: host to bind, port (0: an ephemeral one, published in Redis). */
  readonly internalHost: string;
  readonly internalPort: number;
  /** Host other workers use to reach the internal endpoint. */
  readonly advertisedHost: string;
  readonly security: TransportSecurity;
  /** How often the TLS files are re-read for a rotated certificate, key or CA (0: never). */
  readonly tlsReloadMs: number;
  /** Expected host name in the peers' certificates on the internal channel (TLS only). */
  readonly tlsServerName: string | undefined;
  /** Path of the bootstrap tenants file, imported at start for the tenants not stored yet; undefined: none. */
  readonly tokensFile: string | undefined;
  /** Anonymous calls (tenant `local`) are served only on a loopback address, and only while no tenant exists. */
  readonly anonymousAllowed: boolean;
  /** Full reload of the tenants, beside the announced changes. */
  readonly tenantsRefreshMs: number;
  /** Calls/s and burst of the anonymous tenant. */
  readonly anonymousRatePerSecond: number;
  readonly anonymousBurst: number;
  /** A prediction older than this (since it was made) is UNAVAILABLE unless the request accepts stale answers. */
  readonly maxStalenessMs: number;
  /** Largest request message accepted; larger ones get RESOURCE_EXHAUSTED from grpc-js. */
  readonly maxRequestBytes: number;
  /** Budget of a call that came without a deadline. */
  readonly defaultDeadlineMs: number;
  /** At most this long for an owner (forwarded call or local actor query) before the degraded answer. */
  readonly ownerTimeoutMs: number;
  /** Lease of an ownership entry in Redis; renewed every third of it while the worker holds the partition. */
  readonly ownershipLeaseMs: number;
  /** How often the ownership table is re-read (changes are also pushed through Redis pub/sub). */
  readonly ownershipRefreshMs: number;
  /** How often StreamPredictions looks for new predictions of the followed commodities. */
  readonly streamPollMs: number;
  /** How long stop() lets running calls finish. */
  readonly drainGraceMs: number;
  /**
   * Each client connection is pinged after this long without one (0: never), and closed when the ping is not
   * answered within keepaliveTimeoutMs: a vanished client's streams are freed.
   */
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  /**
   * A client connection is asked to reconnect (GOAWAY) after this long, +/-10 % (0: never); its running calls and
   * streams go on. Connections are spread over workers only when they open, so this is what spreads them again
   * after a worker restarts or the deployment scales out.
   */
  readonly maxConnectionAgeMs: number;
}

const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return loopback.test(host);
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(variable, 'a readable PEM file', `${path} (${(err as Error).message})`);
  }
}

export function loadGatewayConfig(config: Config, env: Env = process.env, slot = Number(env.CARBON_WORKER_SLOT ?? '0')): GatewayConfig {
  const r = new EnvReader(env);
  const host = config.grpc.host;
  const certPath = r.optionalString('CARBON_TLS_CERT');
  const keyPath = r.optionalString('CARBON_TLS_KEY');
  const caPath = r.optionalString('CARBON_TLS_CA');
  const plaintextAllowed = r.bool('CARBON_GRPC_PLAINTEXT', false);
  if ((certPath === undefined) !== (keyPath === undefined)) {
    // Named both ways: the one set is what the operator wrote, the one missing is what to add.
    const [missing, given] = certPath === undefined ? ['CARBON_TLS_CERT', 'CARBON_TLS_KEY'] : ['CARBON_TLS_KEY', 'CARBON_TLS_CERT'];
    throw new ConfigError(missing, `a certificate and its key together, as ${given} is set`, '');
  }
  if (caPath !== undefined && certPath === undefined) {
    throw new ConfigError('CARBON_TLS_CA', 'to be used with CARBON_TLS_CERT and CARBON_TLS_KEY (mutual TLS needs server TLS)', caPath);
  }
  let security: TransportSecurity;
  if (certPath !== undefined && keyPath !== undefined) {
    const caPem = caPath === undefined ? undefined : readPem('CARBON_TLS_CA', caPath);
    security = {
      kind: 'tls', certPem: readPem('CARBON_TLS_CERT', certPath), keyPem: readPem('CARBON_TLS_KEY', keyPath), caPem, mutual: caPem !== undefined,
      files: { certPath, keyPath, caPath },
    };
  } else if (isLoopback(host)) {
    security = { kind: 'plaintext', reason: 'loopback' };
  } else if (plaintextAllowed) {
    security = { kind: 'plaintext', reason: 'explicit' };
  } else {
    throw new ConfigError('CARBON_GRPC_HOST', `a loopback address for plaintext gRPC; on ${host} set CARBON_TLS_CERT and CARBON_TLS_KEY, or CARBON_GRPC_PLAINTEXT=true to accept plaintext`, host);
  }
  const tokensFile = r.optionalString('CARBON_TOKENS_FILE');
  const internalPortBase = config.grpc.internalPortBase;
  const internalPort = internalPortBase === 0 ? 0 : internalPortBase + slot;
  if (internalPort > 65_535) throw new ConfigError('CARBON_GRPC_INTERNAL_PORT_BASE', `a base such that base + worker slot (${slot}) <= 65535`, String(internalPortBase));
  const internalHost = r.string('CARBON_GRPC_INTERNAL_HOST', host);
  const advertisedHost = r.string('CARBON_GRPC_ADVERTISE_HOST', internalHost === '0.0.0.0' || internalHost === '::' ? hostname() : internalHost);
  const healthPort = r.int('CARBON_GRPC_HEALTH_PORT', 0, 0, 65_535);
  if (healthPort !== 0 && healthPort === config.grpc.port) throw new ConfigError('CARBON_GRPC_HEALTH_PORT', `a port other than CARBON_GRPC_PORT (${config.grpc.port})`, String(healthPort));
  const leaseMs = r.durationMs('CARBON_OWNERSHIP_LEASE', 15_000, 300);
  return Object.freeze({
    host,
    port: config.grpc.port,
    healthPort,
    internalHost,
    internalPort,
    advertisedHost,
    security,
    tlsServerName: r.optionalString('CARBON_TLS_SERVER_NAME'),
    tlsReloadMs: r.durationMs('CARBON_TLS_RELOAD_INTERVAL', 5_000, 0),
    tokensFile,
    anonymousAllowed: isLoopback(host),
    tenantsRefreshMs: config.tenants.refreshMs,
    anonymousRatePerSecond: r.number('CARBON_GRPC_ANONYMOUS_RATE', 100_000, 1),
    anonymousBurst: r.number('CARBON_GRPC_ANONYMOUS_BURST', 100_000, 1),
    maxStalenessMs: r.durationMs('CARBON_MAX_STALENESS', 26 * 3_600_000, 1, Number.MAX_SAFE_INTEGER),
    maxRequestBytes: r.sizeBytes('CARBON_GRPC_MAX_REQUEST_BYTES', 16 * 1024, 64),
    defaultDeadlineMs: r.durationMs('CARBON_GRPC_DEFAULT_DEADLINE', 2_000, 1),
    ownerTimeoutMs: r.durationMs('CARBON_GRPC_OWNER_TIMEOUT', 250, 1),
    ownershipLeaseMs: leaseMs,
    ownershipRefreshMs: r.durationMs('CARBON_OWNERSHIP_REFRESH', 1_000, 50),
    streamPollMs: r.durationMs('CARBON_STREAM_POLL_INTERVAL', 200, 10),
    drainGraceMs: r.durationMs('CARBON_GRPC_DRAIN_GRACE', 2_000, 0),
    keepaliveMs: r.durationMs('CARBON_GRPC_KEEPALIVE', 30_000, 0),
    keepaliveTimeoutMs: r.durationMs('CARBON_GRPC_KEEPALIVE_TIMEOUT', 10_000, 1),
    maxConnectionAgeMs: r.durationMs('CARBON_GRPC_MAX_CONNECTION_AGE', 5 * 60_000, 0),
  });
}
