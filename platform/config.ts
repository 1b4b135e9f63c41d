/**
 * Configuration: read from the environment once at start, validated, frozen. A bad value stops the program with
 * a ConfigError naming the variable, what was expected and what was given. Defaults live here and nowhere else.
 */
import { cpus } from 'node:os';
import { logFormats, logLevels, type LogFormat, type LogLevel } from './logger.ts';
import type { PriceSheet } from './price-sheet.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  /** `got` undefined: the variable is not set (and must be). */
  constructor(readonly variable: string, expected: string, got: string | undefined) {
    super(got === undefined ? `${variable} is not set: ${expected}` : `${variable}: expected ${expected}, got ${JSON.stringify(got)}`);
  }
}

type Env = Record<string, string | undefined>;

/**
 * Crashes of one tick before the partition supervisor dead-letters it (CARBON_POISON_MAX_TRIES): the default and
 * the most allowed. The most stays below the commodity actor's restart intensity (supervisors/policies.ts, checked
 * by its test), so that a poison tick is dead-lettered while its actor can still restart itself and never
 * escalates past it.
 */
export const poisonTries = { default: 3, max: 4 } as const;

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days): past it, Node fires the timer after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `'250ms'`, `'5s'`, `'2m'`, `'1h'` or a bare number of milliseconds. */
export function parseDurationMs(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!m) return undefined;
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * factor);
  // Thirty digits are a number, but not a duration that any clock or timer can hold.
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** `'512'`, `'64kb'`, `'1mb'` (binary multiples). */
export function parseSizeBytes(raw: string): number | undefined {
  const m = /^\s*(\d+)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) return undefined;
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb' | 'gb'];
  const bytes = Number(m[1]) * factor;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Readers of one variable each: absent or empty gives the default, anything else must parse. */
export class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, fallback: string, pattern?: RegExp, expected = `a value matching ${pattern}`): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (pattern && !pattern.test(v)) throw new ConfigError(name, expected, v);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || n < min || n > max) throw new ConfigError(name, `an integer in [${min}, ${max}]`, v);
    return n;
  }

  number(name: string, fallback: number, min: number, max = Number.MAX_VALUE): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(name, `a number in [${min}, ${max}]`, v);
    return n;
  }

  /** A duration that arms a timer unless `maxMs` says otherwise (a time compared with clocks may be longer). */
  durationMs(name: string, fallbackMs: number, minMs = 0, maxMs = MAX_TIMER_MS): number {
    const v = this.raw(name);
    if (v === undefined) return fallbackMs;
    const ms = parseDurationMs(v);
    if (ms === undefined || ms < minMs || ms > maxMs) throw new ConfigError(name, `a duration in [${minMs}ms, ${maxMs}ms] such as "250ms", "5s" or "2m"`, v);
    return ms;
  }

  sizeBytes(name: string, fallback: number, min = 1): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = parseSizeBytes(v);
    if (n === undefined || n < min) throw new ConfigError(name, `a size >= ${min} bytes such as "512", "64kb" or "1mb"`, v);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(name, 'true or false', v);
  }

  list(name: string, fallback: readonly string[], item: RegExp, expected: string): string[] {
    const v = this.raw(name);
    if (v === undefined) return [...fallback];
    const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const bad = items.find((s) => !item.test(s));
    if (items.length === 0 || bad !== undefined) throw new ConfigError(name, `a comma-separated list of ${expected}`, v);
    return items;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(v);
    } catch {
      throw new ConfigError(name, `a URL (${protocols.map((p) => `${p}//...`).join(' or ')})`, v);
    }
    if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `a URL starting with ${protocols.join(' or ')}`, v);
    return v;
  }
}

/** A host and a port 1-65535. */
const hostPort = /^[A-Za-z0-9.\-[\]:]+:([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

export interface Config {
  /** Real Kafka brokers; undefined means the in-process bus of the embedded mode. */
  readonly kafkaBrokers: readonly string[] | undefined;
  /** Real Postgres; undefined means the embedded PGlite store under dataDir. */
  readonly databaseUrl: string | undefined;
  /** Real Redis; undefined means in-memory state. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key. */
  readonly redisPrefix: string;
  /** Local state of the embedded mode (PGlite files). */
  readonly dataDir: string;
  /** How long a start waits for Kafka, Postgres and Redis to answer before it names the one that did not. */
  readonly connectTimeoutMs: number;
  /** Read by the logger itself (so that config errors can be logged); checked here so that a typo stops the start. */
  readonly logLevel: LogLevel;
  /** Read by the logger itself, as the level; undefined: pretty lines on a terminal, JSON elsewhere. */
  readonly logFormat: LogFormat | undefined;
  readonly kafka: {
    readonly clientId: string;
    /** Prefix of every topic name (tests and shared brokers); empty in production. */
    readonly topicPrefix: string;
    readonly topicPartitions: number;
    readonly groupId: string;
    readonly sessionTimeoutMs: number;
    readonly heartbeatIntervalMs: number;
    /** Whether each partition's outputs and offsets are committed in one Kafka transaction (exactly once for read_committed subscribers). */
    readonly transactions: boolean;
    /** How long the transaction coordinator lets a transaction stay open before it aborts it (a writer that stalled). */
    readonly transactionTimeoutMs: number;
  };
  readonly pipeline: {
    /** Ticks kept per commodity actor; features are a pure function of this window. */
    readonly windowSize: number;
    /** |z| above which a tick raises an Alert. */
    readonly zScoreThreshold: number;
    /** In-flight ticks per partition above which the partition is paused (resumed at half). */
    readonly maxInFlightPerPartition: number;
    /** Crashes on one tick after which it goes to the DLQ. */
    readonly poisonMaxTries: number;
    /** Largest accepted message value. */
    readonly maxMessageBytes: number;
    /** How often the commit cycle takes what is settled (stores, then topics and offsets). */
    readonly flushIntervalMs: number;
    /** Most messages of one partition in one commit. */
    readonly flushMaxRows: number;
    /** Commit cycles running at once (a partition's commits keep their order). */
    readonly flushConcurrency: number;
    /** Longest hand-off of a revoked partition; past it, what it had not committed is dropped for the next owner to redo. */
    readonly handOffTimeoutMs: number;
  };
  readonly cluster: {
    readonly workers: number;
    readonly metricsPort: number;
    readonly metricsHost: string;
    readonly shutdownTimeoutMs: number;
  };
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    readonly internalPortBase: number;
  };
  readonly tenants: {
    /** How long a rotated token keeps working beside its successor (`carbon tenants rotate-token`). */
    readonly rotationOverlapMs: number;
    /** Full reload of the tenants besides the announced changes (a safety net for a lost announcement). */
    readonly refreshMs: number;
  };
  readonly models: {
    /** Horizons (ticks) that `carbon train` fits a champion for, and that predictions are made at. */
    readonly horizons: readonly number[];
    /** Least time between two retrains of a commodity started by a distribution-shift alarm; 0 turns them off. */
    readonly retrainCooldownMs: number;
    /** Whether a challenger that beats its champion in the shadow is promoted without an operator. */
    readonly autoPromote: boolean;
  };
  readonly usage: {
    /** Whether gRPC calls are metered per tenant (actors and sinks always are). */
    readonly metering: boolean;
    /** How often each worker writes its hourly usage sums to Postgres (and once more when it stops). */
    readonly flushIntervalMs: number;
    readonly prices: PriceSheet;
  };
  /** The Trino coordinator that `carbon sql` sends statements to. */
  readonly trinoUrl: string;
  /** Crash injection for tests and game days; off unless CARBON_CHAOS=true. */
  readonly chaosEnabled: boolean;
}

export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const config: Config = {
    kafkaBrokers: r.optionalString('KAFKA_BROKERS') === undefined
      ? undefined
      : r.list('KAFKA_BROKERS', [], hostPort, 'host:port pairs, e.g. 127.0.0.1:9092'),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: r.string('CARBON_REDIS_PREFIX', 'carbon:', /^[\w.:-]*$/, 'letters, digits, ".", ":", "_" or "-"'),
    dataDir: r.string('CARBON_DATA_DIR', '.carbon'),
    connectTimeoutMs: r.durationMs('CARBON_CONNECT_TIMEOUT', 5_000, 100),
    logLevel: r.string('CARBON_LOG_LEVEL', 'info', new RegExp(`^(${logLevels.join('|')})$`), `one of ${logLevels.join(', ')}`) as LogLevel,
    logFormat: r.optionalString('CARBON_LOG_FORMAT') === undefined
      ? undefined
      : r.string('CARBON_LOG_FORMAT', 'json', new RegExp(`^(${logFormats.join('|')})$`), `one of ${logFormats.join(', ')}`) as LogFormat,
    kafka: {
      clientId: r.string('CARBON_KAFKA_CLIENT_ID', '254carbon', /^[\w.-]+$/, 'letters, digits, ".", "_" or "-"'),
      topicPrefix: r.string('CARBON_TOPIC_PREFIX', '', /^[\w.-]*$/, 'letters, digits, ".", "_" or "-"'),
      topicPartitions: r.int('CARBON_TOPIC_PARTITIONS', 12, 1, 10_000),
      groupId: r.string('CARBON_CONSUMER_GROUP', 'carbon-analytics', /^[\w.-]+$/, 'letters, digits, ".", "_" or "-"'),
      sessionTimeoutMs: r.durationMs('CARBON_KAFKA_SESSION_TIMEOUT', 6_000, 1_000),
      heartbeatIntervalMs: r.durationMs('CARBON_KAFKA_HEARTBEAT_INTERVAL', 500, 100),
      transactions: r.bool('CARBON_KAFKA_TRANSACTIONS', true),
      transactionTimeoutMs: r.durationMs('CARBON_KAFKA_TRANSACTION_TIMEOUT', 30_000, 1_000),
    },
    pipeline: {
      windowSize: r.int('CARBON_WINDOW_SIZE', 50, 22, 10_000),
      zScoreThreshold: r.number('CARBON_ZSCORE_THRESHOLD', 4, 0.1),
      maxInFlightPerPartition: r.int('CARBON_MAX_IN_FLIGHT', 5_000, 10),
      poisonMaxTries: r.int('CARBON_POISON_MAX_TRIES', poisonTries.default, 1, poisonTries.max),
      maxMessageBytes: r.sizeBytes('CARBON_MAX_MESSAGE_BYTES', 64 * 1024, 64),
      flushIntervalMs: r.durationMs('CARBON_FLUSH_INTERVAL', 20, 1),
      flushMaxRows: r.int('CARBON_FLUSH_MAX_ROWS', 2_000, 1),
      flushConcurrency: r.int('CARBON_FLUSH_CONCURRENCY', 2, 1, 16),
      handOffTimeoutMs: r.durationMs('CARBON_HANDOFF_TIMEOUT', 5_000, 100),
    },
    cluster: {
      workers: r.int('CARBON_WORKERS', Math.max(1, cpus().length), 1, 256),
      metricsPort: r.int('CARBON_METRICS_PORT', 9464, 0, 65_535),
      metricsHost: r.string('CARBON_METRICS_HOST', '127.0.0.1'),
      shutdownTimeoutMs: r.durationMs('CARBON_SHUTDOWN_TIMEOUT', 8_000, 100),
    },
    grpc: {
      host: r.string('CARBON_GRPC_HOST', '127.0.0.1'),
      port: r.int('CARBON_GRPC_PORT', 50051, 0, 65_535),
      internalPortBase: r.int('CARBON_GRPC_INTERNAL_PORT_BASE', 50100, 0, 65_535),
    },
    tenants: {
      rotationOverlapMs: r.durationMs('CARBON_TOKEN_ROTATION_OVERLAP', 24 * 3_600_000, 0, Number.MAX_SAFE_INTEGER),
      refreshMs: r.durationMs('CARBON_TENANTS_REFRESH', 30_000, 1_000),
    },
    models: {
      horizons: [...new Set(r.list('CARBON_HORIZONS', ['1', '5', '20'], /^([1-9]\d?|[12]\d\d|3[0-5]\d|36[0-5])$/, 'horizons in ticks, 1 to 365').map(Number))].sort((a, b) => a - b),
      retrainCooldownMs: r.durationMs('CARBON_RETRAIN_COOLDOWN', 24 * 3_600_000, 0, Number.MAX_SAFE_INTEGER),
      autoPromote: r.bool('CARBON_AUTO_PROMOTE', true),
    },
    usage: {
      metering: r.bool('CARBON_METERING', true),
      flushIntervalMs: r.durationMs('CARBON_USAGE_FLUSH_INTERVAL', 10_000, 100),
      prices: {
        per1000Calls: r.number('CARBON_PRICE_PER_1000_CALLS', 0.05, 0),
        perCpuSecond: r.number('CARBON_PRICE_PER_CPU_SECOND', 0.00005, 0),
        perGbMonth: r.number('CARBON_PRICE_PER_GB_MONTH', 0.1, 0),
      },
    },
    trinoUrl: r.url('CARBON_TRINO_URL', ['http:', 'https:']) ?? 'http://127.0.0.1:8080',
    chaosEnabled: r.bool('CARBON_CHAOS', false),
  };
  if (config.kafka.heartbeatIntervalMs * 3 > config.kafka.sessionTimeoutMs) {
    throw new ConfigError('CARBON_KAFKA_HEARTBEAT_INTERVAL', 'at most a third of CARBON_KAFKA_SESSION_TIMEOUT', `${config.kafka.heartbeatIntervalMs}ms`);
  }
  if (config.pipeline.handOffTimeoutMs >= config.cluster.shutdownTimeoutMs) {
    throw new ConfigError('CARBON_HANDOFF_TIMEOUT', 'less than CARBON_SHUTDOWN_TIMEOUT (a stopping worker hands its partitions off before it exits)', `${config.pipeline.handOffTimeoutMs}ms`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The exit status of a process stopped by a ConfigError (the cluster primary does not restart such a worker). */
export const EXIT_CONFIG = 2;

/** The real services of cluster mode (`carbon start`, `carbon worker`), all required there. */
export interface ClusterServices {
  readonly kafkaBrokers: readonly string[];
  readonly databaseUrl: string;
  readonly redisUrl: string;
}

/** The services cluster mode needs, or a ConfigError naming the first one unset (and the others unset with it). */
export function clusterServices(config: Config): ClusterServices {
  const { kafkaBrokers, databaseUrl, redisUrl } = config;
  if (kafkaBrokers !== undefined && databaseUrl !== undefined && redisUrl !== undefined) return { kafkaBrokers, databaseUrl, redisUrl };
  const [first, ...others] = ([
    ['KAFKA_BROKERS', kafkaBrokers, '127.0.0.1:9092'],
    ['DATABASE_URL', databaseUrl, 'postgres://postgres@127.0.0.1:5432/test'],
    ['REDIS_URL', redisUrl, 'redis://127.0.0.1:6379'],
  ] as const).filter(([, value]) => value === undefined);
  const [variable, , example] = first ?? ['KAFKA_BROKERS', undefined, ''];
  const also = others.length === 0 ? '' : `; ${others.map(([v]) => v).join(' and ')} ${others.length === 1 ? 'is' : 'are'} not set either`;
  throw new ConfigError(variable, `cluster mode needs it (e.g. ${example})${also}; --embedded runs without them`, undefined);
}
