/**
 * `npm run bench -- recovery [options]` (`--help` lists them with their defaults): a steady synthetic stream
 * through a real 2-worker `carbon start` cluster (CARBON_KAFKA_SESSION_TIMEOUT 2s, heartbeat 300ms) while the
 * chaos control crashes commodity actors and the bench SIGKILLs a worker now and then (the primary restarts it).
 *
 * - actor_restart_p99_ms: the p99 of carbon_recovery_seconds over the run, interpolated within its buckets as
 *   Prometheus' histogram_quantile does (so only as exact as the bucket it lands in, which is given too). The
 *   cluster's /metrics sums the live workers only, so a killed worker's observations would vanish: the bench
 *   scrapes every 250 ms, right before each kill and right after the primary saw the worker exit, and adds up the
 *   increases. The p99 of the restarts away from the kills (scrape intervals outside [kill, group stable + 1 s])
 *   is given as well. Caveat: the metric stops at the first message the restarted actor processes, the `drain`
 *   replayed after every restart; when the actor's ledger is empty at that moment (usual at a few thousand
 *   ticks/s), that drain does nothing and the window rebuild from Postgres runs on the next tick, unmeasured. So
 *   rebuild_query_*_ms times the rebuild's query (history-store loadBefore) from the bench, under the same load.
 * - worker_takeover_s: per kill, the time from the SIGKILL until every partition the victim owned (its group
 *   assignment, read from Kafka just before) has a features row first written after the kill (stored_at, the
 *   row's write time just before its commit, on the same machine's clock): a live worker took it over and made
 *   it durable.
 *   The record holds the max over the kills; the median, and the time the metrics first showed
 *   carbon_ticks_processed_total{partition} moving (per scrape, coarser) are extra fields.
 * - kafka_lost / kafka_duplicated: with a champion in service for every commodity (trained on `history` ticks per
 *   commodity before the stream), `ml-predictions` and `commodity-alerts` read to their end as a read_committed
 *   subscriber: predictions in the `predictions` table missing from the topic, and alerts the reference features
 *   call for (|z| > 4) missing from it, are lost; a message seen more than once is duplicated. Primary keys hide
 *   doubles in the tables; the topics do not. predictions_missing: stream ticks with no prediction row at all.
 * - lost / duplicated: expected unique ticks (everything published) against the stored ticks and features rows;
 *   every stored features row is also compared with the independent reference (test/reference-features.ts).
 *   Re-processing: the features rows written again by a later transaction than their tick's (xmin). Not
 *   carbon_ticks_processed_total minus the unique ticks: summed over live workers, it loses the survivor's
 *   increments in the scrape interval of a kill, by more than the re-processing there is to see.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { AssignerProtocol, type Admin } from 'kafkajs';
import { syntheticCommodityIds, syntheticTicks } from '../actors/ingest/sources/synthetic-source.ts';
import type { FeatureVector } from '../actors/features/compute-features.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher, type KafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import { sqlHistoryStore } from '../actors/commodity/history-store.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { Alert } from '../proto/gen/carbon/v1/alert.ts';
import { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import { readTopic } from '../test/ingest-kafka-helpers.ts';
import { referenceFeatures } from '../test/reference-features.ts';
import { BENCH_HORIZON, championsInService, trainChampions } from './_champions.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { freePort } from '../test/free-port.ts';
import { parseSamples } from '../test/prometheus-text.ts';
import { BROKERS, benchEnvironment, percentile, progress, startBenchCluster, type BenchCluster, type BenchEnvironment } from './_cluster.ts';

const WORKERS = 2;
const WINDOW_SIZE = 50; // the platform's default CARBON_WINDOW_SIZE, which the cluster runs with here
const SESSION_TIMEOUT = '2s';
const HEARTBEAT_INTERVAL = '300ms';
const SCRAPE_INTERVAL_MS = 250;
/**
 * Steps of the synthetic series. The tick publisher stamps each Kafka message with its tick's time, and the
 * broker's time-based retention deletes records older than retention.ms at its next check (every 5 minutes),
 * read or not: old tick times would lose whatever a consumer has not fetched yet at that moment. So by default
 * the series ends about now (second steps); --start-ms 946684800000 (2000-01-01) shows that loss.
 */
const TICK_INTERVAL_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function labelOf(series: string, label: string): string | undefined {
  return new RegExp(`[{,]${label}="([^"]*)"`).exec(series)?.[1];
}

/**
 * The q-quantile of a Prometheus histogram as histogram_quantile computes it: find the bucket holding rank
 * q * count and interpolate linearly inside it (from 0 for the first bucket); a rank in +Inf gives the highest
 * finite bound. `buckets` are cumulative counts by upper bound, +Inf included.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<{ le: number; count: number }>): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return lowerLe;
      return lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / (b.count - lowerCount);
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}

interface Takeover {
  readonly victimPid: number;
  readonly partitions: readonly number[];
  readonly killedAtPerfMs: number;
  readonly killedAtWallMs: number;
  /** Accumulated carbon_ticks_processed_total per partition at the first scrape after the kill. */
  baseline: Map<number, number> | undefined;
  /** Per partition: ms from the kill to the first scrape that saw it progress. */
  readonly progressedAfterMs: Map<number, number>;
  /** When the group was stable again with both workers holding partitions (the replacement joined). */
  settledAtPerfMs: number | undefined;
}

/** What one scrape interval added to a histogram: (fromMs, toMs] and the added cumulative count by bound. */
interface HistogramInterval {
  readonly fromMs: number;
  readonly toMs: number;
  readonly added: ReadonlyMap<number, number>;
}

/** Counters and histogram series: they only go down when a worker's registry leaves the cluster's sum. */
const monotonic = /^[a-z_:]+(_total|_bucket|_count|_sum)(\{|$)/;

/**
 * Scrapes the cluster's counters and histograms and keeps running totals across worker deaths: increases are
 * added up; a series that went down (a worker's registry left the sum) adds nothing in that interval. The bench
 * scrapes right before a kill and right after the primary saw the worker exit, so that such an interval is short.
 */
class MetricsLedger {
  readonly totals = new Map<string, number>();
  private previous = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private previousAtMs = performance.now();
  droppedIntervals = 0;
  /** Set around a kill, so that no periodic scrape asks the victim (the primary waits 2 s for a dead worker). */
  paused = false;
  readonly takeovers: Takeover[] = [];
  readonly recoveryIntervals: HistogramInterval[] = [];

  constructor(private readonly cluster: BenchCluster) {}

  /** Scrapes now, after any scrape in progress. */
  scrape(): Promise<void> {
    this.chain = this.chain.then(() => this.scrapeOnce());
    return this.chain;
  }

  private async scrapeOnce(): Promise<void> {
    const current = new Map([...parseSamples(await (await fetch(`${this.cluster.metricsUrl}/metrics`)).text())].filter(([key]) => monotonic.test(key)));
    const at = performance.now();
    let dropped = false;
    for (const [key, value] of this.previous) {
      if ((current.get(key) ?? 0) < value) dropped = true;
    }
    if (dropped) this.droppedIntervals++;
    const added = new Map<number, number>();
    for (const [key, value] of current) {
      const increase = Math.max(0, value - (this.previous.get(key) ?? 0));
      this.totals.set(key, (this.totals.get(key) ?? 0) + increase);
      const le = key.startsWith('carbon_recovery_seconds_bucket{') ? labelOf(key, 'le') : undefined;
      if (le !== undefined && increase > 0) added.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), increase);
    }
    if (added.size > 0) this.recoveryIntervals.push({ fromMs: this.previousAtMs, toMs: at, added });
    this.previous = current;
    this.previousAtMs = at;
    const processed = this.processedByPartition();
    for (const t of this.takeovers) {
      if (t.baseline === undefined) {
        t.baseline = processed;
        continue;
      }
      for (const p of t.partitions) {
        if (!t.progressedAfterMs.has(p) && (processed.get(p) ?? 0) > (t.baseline.get(p) ?? 0)) t.progressedAfterMs.set(p, at - t.killedAtPerfMs);
      }
    }
  }

  processedByPartition(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [key, value] of this.totals) {
      if (!key.startsWith('carbon_ticks_processed_total{')) continue;
      const p = Number(labelOf(key, 'partition'));
      out.set(p, (out.get(p) ?? 0) + value);
    }
    return out;
  }

  total(name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const [key, value] of this.totals) {
      const bare = key.split('{')[0];
      if (bare !== name) continue;
      if (Object.entries(labels).every(([l, v]) => labelOf(key, l) === v)) sum += value;
    }
    return sum;
  }

  /**
   * Cumulative buckets of carbon_recovery_seconds over the scrape intervals `include` accepts; a running max keeps
   * them cumulative if a worker's exit cost one bucket more than another.
   */
  recoveryHistogram(include: (interval: HistogramInterval) => boolean = () => true): Array<{ le: number; count: number }> {
    const sums = new Map<number, number>();
    for (const interval of this.recoveryIntervals) {
      if (!include(interval)) continue;
      for (const [le, n] of interval.added) sums.set(le, (sums.get(le) ?? 0) + n);
    }
    let max = 0;
    return [...sums].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count: (max = Math.max(max, count)) }));
  }
}

interface GroupMember {
  readonly pid: number;
  readonly partitions: readonly number[];
}

/** The group's members and their partitions of the prices topic, once the group is stable; undefined otherwise. */
async function stableAssignment(admin: Admin, groupId: string, topic: string): Promise<GroupMember[] | undefined> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  if (!group || group.state !== 'Stable') return undefined;
  return group.members.map((m) => {
    // A worker's Kafka client id ends with its pid (supervisors/worker).
    const pid = Number(/-(\d+)$/.exec(m.clientId)?.[1]);
    if (!Number.isInteger(pid)) throw new Error(`cannot tell the pid of group member ${m.clientId}`);
    const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    return { pid, partitions: [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b) };
  });
}

interface StoredCheck {
  lostTicks: number;
  lostFeatures: number;
  extraTicks: number;
  extraFeatures: number;
  tickPriceMismatches: number;
  featureMismatches: number;
  featureRowsCompared: number;
  firstMismatches: string[];
  /** Expected ticks with no ticks row. */
  missing: Array<{ commodity: string; tsMs: number; sentAtS: number }>;
}

/** A published tick: its time, price, and when (s into the run) the broker acknowledged it. */
interface SentTick {
  readonly tsMs: number;
  readonly price: number;
  readonly sentAtS: number;
}

const featureColumns: Array<[keyof FeatureVector, string]> = [
  ['price', 'price'], ['simpleReturn', 'simple_return'], ['logReturn', 'log_return'], ['sma5', 'sma_5'], ['sma20', 'sma_20'],
  ['ema5', 'ema_5'], ['ema20', 'ema_20'], ['volatility20', 'volatility_20'], ['zScore', 'z_score'], ['rsi14', 'rsi_14'],
  ['momentum10', 'momentum_10'], ['windowMin', 'window_min'], ['windowMax', 'window_max'], ['tickCount', 'tick_count'],
];

function sameValue(a: number | null, b: number | undefined): boolean {
  if (a === null || b === undefined) return a === null && b === undefined;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Every expected tick against the stored ticks and features rows, and every features row against the reference. */
/** SentTick.sentAtS of the history ticks, published before the stream's clock starts. */
const HISTORY_SENT_AT_S = -1;
/** The platform's default CARBON_ZSCORE_THRESHOLD, which the cluster runs with here. */
const ZSCORE_THRESHOLD = 4;

/** `count` ticks of history, durable, then a champion in service for every commodity, trained on them. */
async function championsOnHistory(
  env: BenchEnvironment, cluster: BenchCluster, publisher: KafkaTickPublisher, ticks: Iterator<PriceTick>, count: number,
  commodities: readonly string[], record: (batch: readonly PriceTick[], sentAtS: number) => void,
): Promise<void> {
  for (let sent = 0; sent < count; ) {
    const batch: PriceTick[] = [];
    for (let next = ticks.next(); ; next = ticks.next()) {
      if (next.done) throw new Error('the synthetic stream ran out in the history');
      batch.push(next.value);
      if (batch.length >= 2_000 || sent + batch.length >= count) break;
    }
    await publisher.publish(batch);
    record(batch, HISTORY_SENT_AT_S);
    sent += batch.length;
  }
  await publisher.flush();
  for (const deadline = Date.now() + 10 * 60_000; ; await sleep(500)) {
    const { rows } = await env.db.query<{ n: string }>('SELECT count(*) AS n FROM features');
    if (Number(rows[0]?.n) >= count) break;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]?.n} of ${count} history rows stored after 10 minutes`);
  }
  progress(`history: ${count} ticks stored; training a champion for each of ${commodities.length} commodities`);
  await trainChampions(env, commodities);
  await championsInService(cluster, commodities.length);
}

interface KafkaOutputCheck {
  readonly predictionsRead: number;
  readonly predictionsLost: number;
  readonly predictionsDuplicated: number;
  readonly alertsRead: number;
  readonly alertsLost: number;
  readonly alertsDuplicated: number;
  /** Stream ticks without any prediction row. */
  readonly ticksUnpredicted: number;
}

/** Messages of `expected` missing from the topic, and how many were read more than once. */
function reconcile(published: readonly string[], expected: ReadonlySet<string>): { missing: string[]; lost: number; duplicated: number } {
  const seen = new Set(published);
  const missing = [...expected].filter((k) => !seen.has(k));
  return { missing, lost: missing.length, duplicated: published.length - seen.size };
}

/** Where the missing messages' ticks sit: per input partition, how many and when their ticks were published. */
function whereMissing(missing: readonly string[], series: ReadonlyMap<string, SentTick[]>, partitionCount: number): string {
  const sentAt = new Map<string, number>([...series].flatMap(([commodity, list]) => list.map((t) => [`${commodity}@${t.tsMs}`, t.sentAtS] as const)));
  const byPartition = new Map<number, number[]>();
  for (const key of missing) {
    const [commodity = '', tsMs = ''] = key.split('@');
    const p = partitionOf(commodity, partitionCount);
    byPartition.set(p, [...(byPartition.get(p) ?? []), sentAt.get(`${commodity}@${tsMs}`) ?? Number.NaN]);
  }
  return [...byPartition].sort((a, b) => a[0] - b[0])
    .map(([p, at]) => `p${p}: ${at.length} (ticks sent ${Math.min(...at).toFixed(1)}-${Math.max(...at).toFixed(1)} s)`).join(', ');
}

/** ml-predictions and commodity-alerts as a read_committed subscriber sees them, against what they must hold. */
async function checkKafkaOutputs(env: BenchEnvironment, series: ReadonlyMap<string, SentTick[]>, partitionCount: number): Promise<KafkaOutputCheck> {
  const { rows } = await env.db.query<{ commodity: string; tick_ts_ms: string; model_version: string; horizon_ticks: number }>(
    'SELECT commodity, tick_ts_ms, model_version, horizon_ticks FROM predictions');
  const stored = new Set(rows.map((r) => `${r.commodity}@${r.tick_ts_ms}@${r.model_version}@${r.horizon_ticks}`));
  const predictedTicks = new Set(rows.map((r) => `${r.commodity}@${r.tick_ts_ms}`));
  // kafkajs consumers read committed unless told readUncommitted: aborted and open transactions are not seen.
  const predictions = (await readTopic(env.topics.predictions, 180_000, BROKERS)).map((m) => {
    const p = Prediction.decode(m.value);
    return `${p.commodity}@${p.tickTsMs}@${p.modelVersion}@${p.horizonTicks}`;
  });
  const expectedAlerts = new Set([...series].flatMap(([commodity, list]) => referenceFeatures(list, WINDOW_SIZE)
    .filter((f) => f.zScore !== undefined && Math.abs(f.zScore) > ZSCORE_THRESHOLD).map((f) => `${commodity}@${f.tsMs}`)));
  const alerts = (await readTopic(env.topics.alerts, 120_000, BROKERS)).map((m) => {
    const a = Alert.decode(m.value);
    return `${a.commodity}@${a.tsMs}`;
  });
  const p = reconcile(predictions, stored);
  const a = reconcile(alerts, expectedAlerts);
  const ticksUnpredicted = [...series].reduce((n, [commodity, list]) => n + list.filter((t) => t.sentAtS !== HISTORY_SENT_AT_S && !predictedTicks.has(`${commodity}@${t.tsMs}`)).length, 0);
  if (p.lost > 0) progress(`predictions missing from ml-predictions by input partition: ${whereMissing(p.missing, series, partitionCount)}`);
  if (a.lost > 0) progress(`alerts missing from commodity-alerts by input partition: ${whereMissing(a.missing, series, partitionCount)}`);
  progress(`ml-predictions: ${predictions.length} read, ${p.lost} of ${stored.size} stored missing, ${p.duplicated} duplicated; commodity-alerts: ${alerts.length} read, ${a.lost} of ${expectedAlerts.size} expected missing, ${a.duplicated} duplicated; stream ticks without a prediction: ${ticksUnpredicted}`);
  return { predictionsRead: predictions.length, predictionsLost: p.lost, predictionsDuplicated: p.duplicated, alertsRead: alerts.length, alertsLost: a.lost, alertsDuplicated: a.duplicated, ticksUnpredicted };
}

async function checkStored(env: BenchEnvironment, series: ReadonlyMap<string, SentTick[]>): Promise<StoredCheck> {
  const c: StoredCheck = { lostTicks: 0, lostFeatures: 0, extraTicks: 0, extraFeatures: 0, tickPriceMismatches: 0, featureMismatches: 0, featureRowsCompared: 0, firstMismatches: [], missing: [] };
  const note = (what: string): void => {
    if (c.firstMismatches.length < 10) c.firstMismatches.push(what);
  };
  const { rows: strays } = await env.db.query<{ t: string; f: string }>(
    `SELECT (SELECT count(*) FROM ticks WHERE NOT (commodity = ANY($1))) AS t, (SELECT count(*) FROM features WHERE NOT (commodity = ANY($1))) AS f`,
    [[...series.keys()]],
  );
  c.extraTicks += Number(strays[0]?.t ?? 0);
  c.extraFeatures += Number(strays[0]?.f ?? 0);
  for (const [commodity, expected] of series) {
    const byTs = new Map(expected.map((p, i) => [p.tsMs, i]));
    const ticks = await env.db.query<{ ts_ms: string; price: number }>('SELECT ts_ms, price FROM ticks WHERE commodity = $1', [commodity]);
    let found = 0;
    const storedTs = new Set<number>();
    for (const r of ticks.rows) {
      const i = byTs.get(Number(r.ts_ms));
      if (i === undefined) {
        c.extraTicks++;
        continue;
      }
      found++;
      storedTs.add(Number(r.ts_ms));
      if (r.price !== expected[i]?.price) {
        c.tickPriceMismatches++;
        note(`${commodity}@${r.ts_ms} ticks.price ${r.price} != ${expected[i]?.price}`);
      }
    }
    c.lostTicks += expected.length - found;
    for (const t of expected) if (!storedTs.has(t.tsMs)) c.missing.push({ commodity, tsMs: t.tsMs, sentAtS: t.sentAtS });

    const reference = referenceFeatures(expected, WINDOW_SIZE);
    const features = await env.db.query<Record<string, string | number | boolean | null>>('SELECT * FROM features WHERE commodity = $1', [commodity]);
    found = 0;
    for (const row of features.rows) {
      const i = byTs.get(Number(row.ts_ms));
      const want = i === undefined ? undefined : reference[i];
      if (want === undefined) {
        c.extraFeatures++;
        continue;
      }
      found++;
      c.featureRowsCompared++;
      const differing = featureColumns.filter(([field, column]) => !sameValue(row[column] === null ? null : Number(row[column]), want[field] as number | undefined));
      if (row.non_positive_price !== want.nonPositivePrice) differing.push(['nonPositivePrice', 'non_positive_price']);
      if (differing.length > 0) {
        c.featureMismatches++;
        const [field, column] = differing[0] as [keyof FeatureVector, string];
        note(`${commodity}@${String(row.ts_ms)} ${column} ${String(row[column])} != ${String(want[field])} (${differing.length} columns differ)`);
      }
    }
    c.lostFeatures += expected.length - found;
  }
  return c;
}

/**
 * Per kill, from Postgres: ms from the kill until each partition the victim owned has a features row first written
 * after it. Undefined for a partition that got none.
 */
async function durableTakeoverMs(env: BenchEnvironment, kill: Takeover, partitionCount: number): Promise<Map<number, number | undefined>> {
  const { rows } = await env.db.query<{ commodity: string; ms: string }>(
    `SELECT commodity, extract(epoch from min(stored_at)) * 1000 AS ms FROM features
      WHERE stored_at > to_timestamp($1::float8 / 1000) GROUP BY commodity`,
    [kill.killedAtWallMs],
  );
  const out = new Map<number, number | undefined>(kill.partitions.map((p) => [p, undefined]));
  for (const r of rows) {
    const p = partitionOf(r.commodity, partitionCount);
    if (!out.has(p)) continue;
    const ms = Number(r.ms) - kill.killedAtWallMs;
    const seen = out.get(p);
    if (seen === undefined || ms < seen) out.set(p, ms);
  }
  return out;
}

/**
 * Where lost ticks sit in the prices topic: reads the partitions that hold them from the beginning (a throwaway
 * group) and gives, per partition, the lost offsets as ranges, for the report of a loss.
 */
export async function lostOffsets(topic: string, lost: ReadonlyArray<{ commodity: string; tsMs: number }>, partitionCount: number): Promise<Map<number, string>> {
  const wanted = new Set(lost.map((m) => `${m.commodity}@${m.tsMs}`));
  const parts = new Set(lost.map((m) => partitionOf(m.commodity, partitionCount)));
  const admin = createKafka(BROKERS, 'carbon-bench-recovery-diagnosis').admin();
  await admin.connect();
  const highs = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const consumer = createKafka(BROKERS, 'carbon-bench-recovery-diagnosis').consumer({ groupId: `recovery-diagnosis-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const found = new Map<number, number[]>();
  const readUpTo = new Map<number, number>();
  const timeout = sleep(60_000).then(() => {
    throw new Error(`reading ${topic} for the lost ticks took over 60 s`);
  });
  const done = new Promise<void>((resolve, reject) => {
    consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (m.value === null) continue;
          const tick = PriceTick.decode(m.value);
          if (wanted.has(`${tick.commodity}@${tick.tsMs}`)) found.set(batch.partition, [...(found.get(batch.partition) ?? []), Number(m.offset)]);
        }
        readUpTo.set(batch.partition, Number(batch.lastOffset()) + 1);
        if ([...parts].every((p) => (readUpTo.get(p) ?? 0) >= (highs.get(p) ?? 0))) resolve();
      },
    }).catch(reject);
  });
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }
  const out = new Map<number, string>();
  for (const [p, offsets] of found) {
    const ranges: string[] = [];
    const sorted = offsets.sort((a, b) => a - b);
    let from = sorted[0] as number;
    for (let i = 1; i <= sorted.length; i++) {
      if (sorted[i] === (sorted[i - 1] as number) + 1) continue;
      ranges.push(from === sorted[i - 1] ? String(from) : `${from}-${sorted[i - 1]}`);
      from = sorted[i] as number;
    }
    out.set(p, `offsets ${ranges.join(',')} of ${highs.get(p)}`);
  }
  return out;
}

/** Seeded shuffle (mulberry32), so that a rerun crashes the same commodities in the same order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 0.5);

export const summary = 'A steady stream through a 2-worker cluster while actors crash and workers are SIGKILLed: restart and recovery times, and nothing lost or doubled.';

export const options = {
  commodities: { default: 200, help: 'synthetic commodities', integer: true },
  rate: { default: 3_000, help: 'ticks/s published' },
  seconds: { default: 80, help: 'length of the stream, s' },
  crashes: { default: 200, help: 'commodity actors crashed by the chaos control', integer: true },
  kills: { default: 5, help: 'workers SIGKILLed', integer: true },
  partitions: { default: 12, help: 'partitions of the prices topic', integer: true },
  // workerProcessPolicy allows 5 worker restarts in 60 s: kills 16 s apart leave room for one exit of the
  // platform's own in any 60 s, so that the bench alone does not exhaust it.
  'kill-spacing-s': { default: 16, help: 'time between two kills, s' },
  'start-ms': { help: 'time of the first tick, epoch ms (default: the series ends about now)', integer: true },
  history: { default: 300, help: 'ticks per commodity before the stream, to train a champion for each on (0: no models, no Kafka outputs checked)', min: 0, integer: true },
} as const satisfies OptionSpecs;

export default async function recoveryBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const { commodities, rate, partitions } = o;
  const durationS = o.seconds;
  const crashCount = o.crashes;
  const killCount = o.kills;
  const killSpacingS = o['kill-spacing-s'];
  const startMs = o['start-ms'];
  const loadAtStart = loadavg()[0] ?? 0;

  const env = await benchEnvironment(partitions);
  progress(`database ${env.name}, ${partitions} partitions; starting ${WORKERS} workers (session timeout ${SESSION_TIMEOUT}, heartbeat ${HEARTBEAT_INTERVAL})`);
  let cluster: BenchCluster;
  try {
    cluster = await startBenchCluster(env, WORKERS, {
      CARBON_CHAOS: 'true',
      CARBON_HORIZONS: String(BENCH_HORIZON),
      CARBON_KAFKA_SESSION_TIMEOUT: SESSION_TIMEOUT,
      CARBON_KAFKA_HEARTBEAT_INTERVAL: HEARTBEAT_INTERVAL,
      // The workers serve gRPC; the default ports (50051, 50100 + slot) collide with any other cluster on the
      // machine, and a restarted worker that cannot bind exits, which spends the primary's restart budget.
      CARBON_GRPC_PORT: String(await freePort()),
      CARBON_GRPC_INTERNAL_PORT_BASE: '0',
    });
  } catch (err) {
    await env.cleanup();
    throw err;
  }
  const primaryExited = new Promise<never>((_, reject) => {
    cluster.child.once('exit', (code) => reject(new Error(`the cluster primary exited (code ${code}) during the run; see /tmp/${env.name}.log`)));
  });
  primaryExited.catch(() => undefined); // observed through the races below
  const admin = createKafka(BROKERS, 'carbon-bench-recovery-admin').admin();
  await admin.connect();
  const ledger = new MetricsLedger(cluster);
  const groupId = env.env.CARBON_CONSUMER_GROUP as string;
  let publisher: Awaited<ReturnType<typeof connectKafkaTickPublisher>> | undefined;
  /** False once the run is over or failed: every loop stops. */
  let running = true;
  try {
    publisher = await connectKafkaTickPublisher(createKafka(BROKERS, 'carbon-bench-publisher'), {
      topic: env.topics.prices, maxMessageBytes: 64 * 1024, batchSize: 2_000,
    });
    // The series, history first: the stream goes on from where the history ends.
    const series = new Map<string, SentTick[]>();
    const record = (batch: readonly PriceTick[], sentAtS: number): void => {
      for (const t of batch) {
        let s = series.get(t.commodity);
        if (s === undefined) series.set(t.commodity, (s = []));
        s.push({ tsMs: t.tsMs, price: t.price, sentAtS });
      }
    };
    const historyTicks = o.history * commodities;
    const maxTicks = historyTicks + Math.round(rate * durationS * 4);
    const firstTickMs = startMs ?? Date.now() - Math.ceil(maxTicks / commodities / 0.9) * TICK_INTERVAL_MS;
    const ticks = syntheticTicks({ seed: 254, commodities, ticks: maxTicks, startMs: firstTickMs, intervalMs: TICK_INTERVAL_MS });
    if (historyTicks > 0) await championsOnHistory(env, cluster, publisher, ticks, historyTicks, syntheticCommodityIds(commodities), record);

    const started = performance.now();
    const elapsedS = (): number => (performance.now() - started) / 1000;

    const scraping = (async () => {
      while (running) {
        if (!ledger.paused) await ledger.scrape();
        await sleep(SCRAPE_INTERVAL_MS);
      }
    })();

    // Actor crashes, evenly from 2 s to 5 s before the planned end, over the commodities in a shuffled cycle (a
    // commodity comes round again after all the others, far inside commodityActorPolicy's 5 restarts in 10 s).
    // A crash sent while no worker owns the commodity's partition does nothing, so the commodities of a partition
    // being taken over are passed over, and crashes lost anyway (a rebalance revokes every partition for a moment)
    // are topped up at the end until the cluster has counted crashCount.
    const ids = shuffled(syntheticCommodityIds(commodities), 3);
    let cursor = 0;
    let crashesSent = 0;
    let crashesDone = false;
    const rebuildQueryMs: number[] = [];
    const history = sqlHistoryStore(env.db);
    const crashCounted = (): number => ledger.total('carbon_actor_crashes_total', { level: 'commodity' });
    const crashOne = async (): Promise<void> => {
      const pending = ledger.takeovers.find((t) => t.progressedAfterMs.size < t.partitions.length);
      let commodity = ids[cursor++ % ids.length] as string;
      for (let tries = 0; pending?.partitions.includes(partitionOf(commodity, partitions)) && tries < ids.length; tries++) commodity = ids[cursor++ % ids.length] as string;
      const res = await fetch(`${cluster.metricsUrl}/chaos/crash?commodity=${commodity}`, { method: 'POST' });
      if (res.status !== 202) throw new Error(`POST /chaos/crash answered ${res.status}: ${await res.text()}`);
      await res.text();
      crashesSent++;
      // What a rebuild reads, timed from here under the same load: a floor for the rebuild part of a restart.
      const t0 = performance.now();
      await history.loadBefore(commodity, Number.MAX_SAFE_INTEGER, WINDOW_SIZE);
      rebuildQueryMs.push(performance.now() - t0);
    };
    const crashing = (async () => {
      const firstS = 2;
      const everyS = Math.max(0.05, (durationS - 5 - firstS) / crashCount);
      for (let i = 0; i < crashCount; i++) {
        if (!running) return;
        const dueS = firstS + i * everyS;
        if (dueS > elapsedS()) await sleep((dueS - elapsedS()) * 1000);
        await crashOne();
      }
      for (let attempt = 0; attempt < 10; attempt++) {
        await sleep(1_500); // the last crashes reach the metrics
        await ledger.scrape();
        const missing = crashCount - crashCounted();
        if (missing <= 0) break;
        progress(`${missing} crashes found no actor (partition without owner); sending ${missing} more`);
        for (let i = 0; i < missing && running; i++) {
          await crashOne();
          await sleep(everyS * 1000);
        }
      }
      crashesDone = true;
    })();

    // Worker kills: each once the group is stable with both workers holding partitions and the previous takeover
    // is complete; the victim is the worker that survived the previous kill, so that both slots get killed.
    let lastVictimReplacement: number | undefined;
    let killsDone = false;
    const killing = (async () => {
      let nextAtS = 8;
      let survivorPid: number | undefined;
      let lastSeen = 'nothing yet';
      for (let k = 0; k < killCount; k++) {
        for (;;) {
          if (!running) return;
          if (elapsedS() >= nextAtS) {
            const previous = ledger.takeovers[ledger.takeovers.length - 1];
            const previousDone = previous === undefined || previous.progressedAfterMs.size === previous.partitions.length;
            const pids = await cluster.workerPids();
            const members = previousDone && pids.length === WORKERS ? await stableAssignment(admin, groupId, env.topics.prices) : undefined;
            lastSeen = `previous takeover done: ${previousDone}, worker pids ${pids.join(',')}, group ${members ? JSON.stringify(members) : 'not stable'}`;
            if (members && members.length === WORKERS && members.every((m) => m.partitions.length > 0 && pids.includes(m.pid))) {
              const victim = members.find((m) => m.pid !== lastVictimReplacement) ?? (members[0] as GroupMember);
              survivorPid = members.find((m) => m !== victim)?.pid;
              ledger.paused = true;
              await ledger.scrape();
              const killedAtWallMs = Date.now();
              const killedAtPerfMs = performance.now();
              process.kill(victim.pid, 'SIGKILL');
              ledger.takeovers.push({ victimPid: victim.pid, partitions: victim.partitions, killedAtPerfMs, killedAtWallMs, baseline: undefined, progressedAfterMs: new Map(), settledAtPerfMs: undefined });
              for (const deadline = performance.now() + 3_000; performance.now() < deadline; await sleep(10)) {
                if (!(await cluster.workerPids()).includes(victim.pid)) break;
              }
              await ledger.scrape();
              ledger.paused = false;
              progress(`kill ${k + 1}: SIGKILL worker ${victim.pid} (partitions ${victim.partitions.join(',')}) at ${elapsedS().toFixed(1)} s`);
              nextAtS = elapsedS() + killSpacingS;
              break;
            }
          }
          if (elapsedS() > durationS * 3) throw new Error(`kill ${k + 1} never found a stable 2-worker group (${lastSeen}); see /tmp/${env.name}.log`);
          await sleep(100);
        }
        // The victim's replacement: the primary forks it after its restart backoff.
        const victimPid = ledger.takeovers[k]?.victimPid;
        for (;;) {
          if (!running) return;
          const pids = await cluster.workerPids();
          if (pids.length === WORKERS && victimPid !== undefined && !pids.includes(victimPid)) {
            lastVictimReplacement = pids.find((p) => p !== survivorPid);
            break;
          }
          await sleep(100);
        }
        const kill = ledger.takeovers[k] as Takeover;
        for (;;) {
          if (!running) return;
          const pids = await cluster.workerPids();
          const members = await stableAssignment(admin, groupId, env.topics.prices);
          if (members?.length === WORKERS && members.every((m) => m.partitions.length > 0 && pids.includes(m.pid))) {
            kill.settledAtPerfMs = performance.now();
            progress(`kill ${k + 1}: replacement ${lastVictimReplacement} joined; group stable again ${((kill.settledAtPerfMs - kill.killedAtPerfMs) / 1000).toFixed(1)} s after the kill`);
            break;
          }
          await sleep(100);
        }
      }
      killsDone = true;
    })();

    // The stream: paced slices, until the planned duration has passed and every kill was taken over.
    const slice = Math.max(1, Math.round(rate / 20));
    let sent = 0;
    let lastReport = performance.now();
    const streaming = (async () => {
      for (;;) {
        if (!running) return;
        const batch: PriceTick[] = [];
        for (let i = 0; i < slice; i++) {
          const next = ticks.next();
          if (next.done) throw new Error('the synthetic stream ran out before the kills were done');
          batch.push(next.value);
        }
        await publisher?.publish(batch);
        await publisher?.flush();
        record(batch, elapsedS());
        sent += batch.length;
        const lastKill = ledger.takeovers[ledger.takeovers.length - 1];
        const lastTakeoverDone = lastKill !== undefined && lastKill.progressedAfterMs.size === lastKill.partitions.length;
        if (elapsedS() >= durationS && killsDone && crashesDone && lastTakeoverDone && performance.now() - lastKill.killedAtPerfMs > 5_000) return;
        const dueMs = (sent / rate) * 1000 - (performance.now() - started);
        if (dueMs > 0) await sleep(dueMs);
        if (performance.now() - lastReport > 5_000) {
          lastReport = performance.now();
          progress(`${elapsedS().toFixed(0)} s: published ${sent}, crashes sent ${crashesSent} (counted ${crashCounted()}), kills ${ledger.takeovers.length}`);
        }
      }
    })();
    await Promise.race([Promise.all([streaming, crashing, killing]), primaryExited, scraping]);
    await publisher.close();
    publisher = undefined;
    const streamS = elapsedS();
    progress(`published ${sent} ticks in ${streamS.toFixed(1)} s (${Math.round(sent / streamS)}/s); waiting for durable rows`);

    // Wait until every tick is stored, or until nothing moved for 60 s (then the difference is lost).
    let stored = -1;
    let movedAt = performance.now();
    for (;;) {
      const { rows } = await env.db.query<{ t: string; f: string }>('SELECT (SELECT count(*) FROM ticks) AS t, (SELECT count(*) FROM features) AS f');
      const n = Math.min(Number(rows[0]?.t ?? 0), Number(rows[0]?.f ?? 0)) - historyTicks;
      if (n >= sent) break;
      if (n !== stored) {
        stored = n;
        movedAt = performance.now();
      }
      if (performance.now() - movedAt > 60_000) {
        progress(`only ${n} of ${sent} rows stored and nothing moved for 60 s`);
        break;
      }
      await Promise.race([sleep(500), primaryExited]);
    }
    // Let the last recoveries and processed counts reach the metrics before the final scrape.
    await sleep(1_000);
    running = false;
    await scraping;
    await ledger.scrape();
    const loadAtEnd = loadavg()[0] ?? 0;
    // A tick and its features are written in one transaction, the tick with DO NOTHING and the features with DO
    // UPDATE: a features row whose xmin differs from its tick's was written again by a later transaction.
    const { rows: rewritten } = await env.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM features f JOIN ticks t USING (commodity, ts_ms) WHERE f.xmin::text <> t.xmin::text');
    const featuresRewritten = Number(rewritten[0]?.n ?? Number.NaN);

    const recovery = ledger.recoveryHistogram();
    const recoveryCount = recovery[recovery.length - 1]?.count ?? 0;
    const p99S = histogramQuantile(0.99, recovery);
    const p50S = histogramQuantile(0.5, recovery);
    const within10ms = recovery.find((b) => b.le === 0.01)?.count ?? 0;
    const p99Bucket = recovery.find((b) => b.count >= 0.99 * recoveryCount);
    const p99BucketIndex = p99Bucket ? recovery.indexOf(p99Bucket) : -1;
    const p99Lower = p99BucketIndex > 0 ? recovery[p99BucketIndex - 1]?.le ?? 0 : 0;
    // Restarts away from the kills: scrape intervals that do not overlap [kill, group stable again + 1 s].
    const disturbed = (i: HistogramInterval): boolean =>
      ledger.takeovers.some((t) => i.toMs > t.killedAtPerfMs && i.fromMs < (t.settledAtPerfMs ?? Number.POSITIVE_INFINITY) + 1_000);
    const steady = ledger.recoveryHistogram((i) => !disturbed(i));
    const steadyCount = steady[steady.length - 1]?.count ?? 0;
    const bucketText = (h: ReadonlyArray<{ le: number; count: number }>): string => {
      let below = 0;
      return h.map((b) => {
        const n = b.count - below;
        below = b.count;
        return `<=${b.le === Number.POSITIVE_INFINITY ? 'inf' : b.le * 1000}ms:${n}`;
      }).filter((t) => !t.endsWith(':0')).join(' ');
    };
    progress(`carbon_recovery_seconds over the run (per bucket): ${bucketText(recovery)}`);
    progress(`  away from the kills: ${bucketText(steady)}`);

    const check = await checkStored(env, series);
    const outputs = historyTicks > 0 ? await checkKafkaOutputs(env, series, partitions) : undefined;
    const takeoverDurableS: number[] = [];
    const takeoverProcessedS: number[] = [];
    for (const [i, kill] of ledger.takeovers.entries()) {
      const durable = await durableTakeoverMs(env, kill, partitions);
      const durableMax = Math.max(...[...durable.values()].map((ms) => ms ?? Number.POSITIVE_INFINITY));
      const processedMax = Math.max(...kill.partitions.map((p) => kill.progressedAfterMs.get(p) ?? Number.POSITIVE_INFINITY));
      takeoverDurableS.push(durableMax / 1000);
      takeoverProcessedS.push(processedMax / 1000);
      progress(`kill ${i + 1} (partitions ${kill.partitions.join(',')}): every partition durable again after ${(durableMax / 1000).toFixed(2)} s, processing seen after ${(processedMax / 1000).toFixed(2)} s`);
    }
    if (check.firstMismatches.length > 0) progress(`mismatches: ${check.firstMismatches.join('; ')}`);
    if (check.missing.length > 0) {
      const byPartition = new Map<number, StoredCheck['missing']>();
      for (const m of check.missing) {
        const p = partitionOf(m.commodity, partitions);
        byPartition.set(p, [...(byPartition.get(p) ?? []), m]);
      }
      const offsets = await lostOffsets(env.topics.prices, check.missing, partitions);
      for (const [p, lost] of byPartition) {
        const at = lost.map((m) => m.sentAtS);
        progress(`lost on partition ${p}: ${lost.length} ticks (${offsets.get(p) ?? 'not found in the topic'}), acknowledged by the broker ${Math.min(...at).toFixed(2)}-${Math.max(...at).toFixed(2)} s into the run`);
      }
      for (const [i, t] of ledger.takeovers.entries()) {
        progress(`  kill ${i + 1} at ${((t.killedAtPerfMs - started) / 1000).toFixed(2)} s, partitions ${t.partitions.join(',')}, stable again at ${(((t.settledAtPerfMs ?? Number.NaN) - started) / 1000).toFixed(2)} s`);
      }
      const committed = await admin.fetchOffsets({ groupId, topics: [env.topics.prices] });
      const ends = await admin.fetchTopicOffsets(env.topics.prices);
      progress(`  committed offsets / high watermarks: ${ends.map((e) => `${e.partition}:${committed[0]?.partitions.find((c) => c.partition === e.partition)?.offset}/${e.high}`).join(' ')}`);
    }
    const sortedRebuild = [...rebuildQueryMs].sort((a, b) => a - b);

    return {
      bench: 'recovery',
      actor_restart_p99_ms: round(p99S * 1000, 3),
      worker_takeover_s: round(Math.max(...takeoverDurableS), 2),
      lost: Math.max(check.lostTicks, check.lostFeatures),
      duplicated: check.extraTicks + check.extraFeatures,
      kafka_lost: outputs === undefined ? null : outputs.predictionsLost + outputs.alertsLost,
      kafka_duplicated: outputs === undefined ? null : outputs.predictionsDuplicated + outputs.alertsDuplicated,
      kafka_predictions_lost: outputs?.predictionsLost ?? null,
      kafka_predictions_duplicated: outputs?.predictionsDuplicated ?? null,
      kafka_predictions_read: outputs?.predictionsRead ?? null,
      kafka_alerts_lost: outputs?.alertsLost ?? null,
      kafka_alerts_duplicated: outputs?.alertsDuplicated ?? null,
      kafka_alerts_read: outputs?.alertsRead ?? null,
      predictions_missing: outputs?.ticksUnpredicted ?? null,
      actor_restart_p50_ms: round(p50S * 1000, 3),
      actor_restart_p99_bucket_ms: `(${p99Lower * 1000}, ${(p99Bucket?.le ?? Number.NaN) * 1000}]`,
      actor_restarts_within_10ms_ratio: recoveryCount === 0 ? null : round(within10ms / recoveryCount, 4),
      actor_restart_p99_ms_away_from_kills: round(histogramQuantile(0.99, steady) * 1000, 3),
      recoveries_away_from_kills: steadyCount,
      recoveries_observed: recoveryCount,
      crashes_sent: crashesSent,
      commodity_crashes_counted: crashCounted(),
      restarts_counted: ledger.total('carbon_actor_restarts_total'),
      escalations_counted: ledger.total('carbon_escalations_total'),
      rebuild_query_p50_ms: round(percentile(sortedRebuild, 0.5), 2),
      rebuild_query_p99_ms: round(percentile(sortedRebuild, 0.99), 2),
      kills: ledger.takeovers.length,
      worker_restarts_counted: ledger.total('carbon_worker_restarts_total'),
      worker_takeover_median_s: round(median(takeoverDurableS), 2),
      worker_takeover_all_s: takeoverDurableS.map((s) => s.toFixed(2)).join(' '),
      worker_takeover_processed_max_s: round(Math.max(...takeoverProcessedS), 2),
      worker_takeover_processed_all_s: takeoverProcessedS.map((s) => s.toFixed(2)).join(' '),
      first_tick_iso: new Date(firstTickMs).toISOString(),
      session_timeout: SESSION_TIMEOUT,
      heartbeat_interval: HEARTBEAT_INTERVAL,
      ticks: sent,
      history_ticks: historyTicks,
      commodities,
      partitions,
      rate,
      stream_s: round(streamS, 1),
      lost_ticks: check.lostTicks,
      lost_features: check.lostFeatures,
      duplicated_ticks: check.extraTicks,
      duplicated_features: check.extraFeatures,
      tick_price_mismatches: check.tickPriceMismatches,
      features_compared: check.featureRowsCompared,
      features_mismatched: check.featureMismatches,
      reprocessed_rows_rewritten: featuresRewritten,
      skipped_duplicates_counted: ledger.total('carbon_ticks_skipped_total', { reason: 'duplicate' }),
      dlq_counted: ledger.total('carbon_dlq_total'),
      metric_intervals_with_a_drop: ledger.droppedIntervals,
      load_1m_start: round(loadAtStart, 2),
      load_1m_end: round(loadAtEnd, 2),
    };
  } finally {
    running = false;
    if (publisher) await publisher.close().catch((err: unknown) => progress(`closing the publisher after a failure failed too: ${String(err)}`));
    await admin.disconnect();
    if (cluster.child.exitCode === null) await cluster.stop();
    await env.cleanup();
  }
}
