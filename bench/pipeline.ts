/**
 * `npm run bench -- pipeline [options]` (`--help` lists them with their defaults): the whole pipeline, every tick
 * predicted and every sink on, through a real `carbon start` cluster, against a bare kafkajs consumer and against
 * the peer a user would pick instead, a Kafka Streams application (bench/peers/kstreams), on the same ticks.
 *
 * In order, on one stream of synthetic ticks:
 * 1. history (`history` ticks per commodity), then the platform's training job puts a champion (and a small forest in
 *    the shadow) in service for every commodity; then `warmup` ticks.
 * 2. Capacity, in a closed loop: `ticks` published as fast as the publisher goes, timed from the first publish to
 *    the last of them durable (`features.stored_at` of the last row, the last statement of its flush transaction,
 *    after its predictions; the Kafka transaction of its outputs and offsets commits right after): `ticks_per_s`.
 * 3. Latency, in an open loop at `load` (80 %) of that capacity for `latency` seconds: every 97th tick's
 *    `features.stored_at` minus the moment its slice was acknowledged by the broker: `p50_ms`, `p99_ms`.
 * 4. The same cluster restarted with CARBON_KAFKA_TRANSACTIONS=false, warmed up, and step 2 again:
 *    `ticks_per_s_no_transactions`.
 * 5. A bare kafkajs consumer decoding every tick of the prices topic and committing after each batch: `ratio`.
 * 6. The peer: the history, warm-up and capacity ticks of steps 1-2 on a topic of its own, the capacity timed as in
 *    step 2 on its own `peer_features` rows: `kstreams_ticks_per_s`, `peer_ratio`.
 * `peak_rss_mb` is the largest resident set of one worker over the whole run (sampled every 250 ms).
 */
import { FEATURE_COLUMNS } from '../actors/features/feature-columns.ts';
import { syntheticTicks } from '../actors/ingest/sources/synthetic-source.ts';
import { createKafka, prepareTopics } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher, type KafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { topicNames } from '../connectors/kafka/topics.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { BENCH_HORIZON, championsInService, trainChampions } from './_champions.ts';
import { BROKERS, benchEnvironment, percentile, progress, rssMb, startBenchCluster, type BenchCluster, type BenchEnvironment } from './_cluster.ts';
import { cpuShares } from './_cpu-profile.ts';
import { peerJar, startPeer } from './_kstreams-peer.ts';

export const summary = 'The whole pipeline with a model in service for every commodity and every sink on: capacity (closed loop), latency at 80 % of it (open loop), memory, with and without Kafka transactions, against a bare kafkajs consumer and a Kafka Streams peer on the same ticks.';

export const options = {
  commodities: { default: 200, help: 'synthetic commodities', integer: true },
  workers: { default: 2, help: 'worker processes (and the peer\'s stream threads)', integer: true },
  partitions: { default: 12, help: 'partitions of the prices topic', integer: true },
  history: { default: 300, help: 'ticks per commodity before training (what the models are fitted on)', integer: true },
  warmup: { default: 20_000, help: 'ticks through each cluster (and the peer) before it is measured', integer: true },
  ticks: { default: 100_000, help: 'ticks of each closed-loop capacity measurement', integer: true },
  latency: { default: 20, help: 'seconds of the open loop' },
  load: { default: 0.8, help: 'share of the measured capacity offered in the open loop', min: 0.01 },
  peer: { default: 1, help: '0 leaves out the Kafka Streams peer', min: 0, integer: true },
  profile: { default: 0, help: '1: CPU profiles of the workers with transactions (node --cpu-prof), summarised by part', min: 0, integer: true },
} as const satisfies OptionSpecs;

/** The platform's flush settings (CARBON_FLUSH_MAX_ROWS, CARBON_FLUSH_INTERVAL defaults), given to the peer too. */
const FLUSH_ROWS = 2_000;
const FLUSH_MS = 20;
const SAMPLE_EVERY = 97;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The run's synthetic ticks, taken phase by phase: at least `count` ticks, then the rest of the step the last one
 * belongs to, so that a phase is a closed range of tick times (the generator leaves a commodity out of a step now
 * and then, so steps differ in size). The tick looked at past a phase's end starts the next one.
 */
class TickPhases {
  private readonly ticks: Iterator<PriceTick>;
  private ahead: PriceTick | undefined;
  published = 0;

  constructor(commodities: number) {
    this.ticks = syntheticTicks({ seed: 254, commodities, ticks: Number.MAX_SAFE_INTEGER, startMs: Date.UTC(2000, 0, 1), intervalMs: 60_000 });
  }

  take(count: number): PriceTick[] {
    const out: PriceTick[] = [];
    for (;;) {
      const next = this.ahead ?? this.ticks.next().value;
      this.ahead = undefined;
      if (next === undefined) break;
      const last = out[out.length - 1];
      if (out.length >= count && last !== undefined && next.tsMs !== last.tsMs) {
        this.ahead = next;
        break;
      }
      out.push(next);
    }
    this.published += out.length;
    return out;
  }
}

/** Where a phase's ticks end up: the platform's `features` (and `predictions`) or the peer's `peer_features`. */
interface Sink {
  readonly name: string;
  readonly featuresTable: 'features' | 'peer_features';
  /** Every tick also gets a prediction (the platform with champions in service). */
  readonly predicted: boolean;
  /** Throws when whatever processes the ticks has stopped by itself. */
  check(): void;
}

/** The last tick of each commodity in `ticks`: until each is durable, the phase is not (a cheap test to poll first). */
function lastPerCommodity(ticks: readonly PriceTick[]): { commodities: string[]; tsMs: number[] } {
  const last = new Map<string, number>();
  for (const t of ticks) last.set(t.commodity, t.tsMs);
  return { commodities: [...last.keys()], tsMs: [...last.values()] };
}

/** Waits until every tick of the phase is durable (and predicted); returns the clock time of the last feature row, ms. */
async function phaseDurable(env: BenchEnvironment, sink: Sink, ticks: readonly PriceTick[], timeoutMs = 10 * 60_000): Promise<number> {
  const keys = lastPerCommodity(ticks);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    sink.check();
    const { rows } = await env.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${sink.featuresTable} f JOIN unnest($1::text[], $2::bigint[]) AS k(commodity, ts_ms) USING (commodity, ts_ms)`,
      [keys.commodities, keys.tsMs],
    );
    if (Number(rows[0]?.n) === keys.commodities.length) break;
    if (Date.now() > deadline) throw new Error(`${sink.name}: ${rows[0]?.n} of ${keys.commodities.length} commodities durable through the phase after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
  // A partition flushes up to CARBON_FLUSH_CONCURRENCY batches at once, so a commodity's last tick can be durable
  // before its earlier ones: the phase is done when every one of its rows is.
  const from = (ticks[0] as PriceTick).tsMs;
  const to = (ticks[ticks.length - 1] as PriceTick).tsMs;
  let lastMs: number;
  for (;;) {
    sink.check();
    const { rows } = await env.db.query<{ n: string; ms: string }>(
      `SELECT count(*) AS n, extract(epoch from max(stored_at)) * 1000 AS ms FROM ${sink.featuresTable} WHERE ts_ms BETWEEN $1 AND $2`, [from, to]);
    if (Number(rows[0]?.n) === ticks.length) {
      lastMs = Number(rows[0]?.ms);
      break;
    }
    if (Date.now() > deadline) throw new Error(`${sink.name}: ${rows[0]?.n} feature rows for the ${ticks.length} ticks of the phase after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
  if (sink.predicted) {
    for (;;) {
      // Ticks predicted, not rows: a challenger promoted mid-stream gives the ticks of its flush a second version.
      const { rows: p } = await env.db.query<{ n: string }>(
        'SELECT count(DISTINCT (commodity, tick_ts_ms)) AS n FROM predictions WHERE tick_ts_ms BETWEEN $1 AND $2 AND horizon_ticks = $3', [from, to, BENCH_HORIZON]);
      if (Number(p[0]?.n) === ticks.length) break;
      if (Date.now() > deadline) throw new Error(`${sink.name}: ${p[0]?.n} predictions for the ${ticks.length} ticks of the phase: not every tick predicted`);
      await sleep(100);
    }
  }
  return lastMs;
}

/** Publishes the ticks as fast as the publisher goes and returns ticks/s from the first publish to the last row durable. */
async function closedLoop(env: BenchEnvironment, publisher: KafkaTickPublisher, sink: Sink, ticks: readonly PriceTick[]): Promise<number> {
  const startedWall = Date.now();
  await publisher.publish(ticks);
  await publisher.flush();
  const publishedS = (Date.now() - startedWall) / 1000;
  const lastMs = await phaseDurable(env, sink, ticks);
  const ticksPerS = ticks.length / ((lastMs - startedWall) / 1000);
  progress(`${sink.name}: ${ticks.length} ticks published in ${publishedS.toFixed(1)} s, durable at ${Math.round(ticksPerS)} ticks/s`);
  return ticksPerS;
}

/** Publishes the ticks at `rate` in slices of 50 ms and returns the sampled ticks' latencies, ms, sorted. */
async function openLoop(env: BenchEnvironment, publisher: KafkaTickPublisher, sink: Sink, ticks: readonly PriceTick[], rate: number): Promise<number[]> {
  const slice = Math.max(1, Math.round(rate / 20));
  const samples: Array<{ commodity: string; tsMs: number; ackedAt: number }> = [];
  const started = performance.now();
  for (let sent = 0; sent < ticks.length; ) {
    const batch = ticks.slice(sent, sent + slice);
    await publisher.publish(batch);
    await publisher.flush();
    const ackedAt = Date.now();
    for (let i = 0; i < batch.length; i++) {
      const tick = batch[i] as PriceTick;
      if ((sent + i) % SAMPLE_EVERY === 0) samples.push({ commodity: tick.commodity, tsMs: tick.tsMs, ackedAt });
    }
    sent += batch.length;
    // Paced against the absolute schedule, so that a slow slice is caught up rather than drifting.
    const dueMs = (sent / rate) * 1000 - (performance.now() - started);
    if (dueMs > 0) await sleep(dueMs);
  }
  const offeredS = (performance.now() - started) / 1000;
  await phaseDurable(env, sink, ticks);
  const { rows } = await env.db.query<{ commodity: string; ts_ms: string; ms: string }>(
    `SELECT f.commodity, f.ts_ms, extract(epoch from f.stored_at) * 1000 AS ms
       FROM ${sink.featuresTable} f JOIN unnest($1::text[], $2::bigint[]) AS k(commodity, ts_ms) USING (commodity, ts_ms)`,
    [samples.map((s) => s.commodity), samples.map((s) => s.tsMs)],
  );
  const ackedAt = new Map(samples.map((s) => [`${s.commodity}@${s.tsMs}`, s.ackedAt]));
  const latencies = rows.map((r) => Number(r.ms) - (ackedAt.get(`${r.commodity}@${r.ts_ms}`) ?? Number.NaN)).filter(Number.isFinite).sort((a, b) => a - b);
  progress(`${sink.name}: ${ticks.length} ticks offered at ${Math.round(ticks.length / offeredS)}/s; latency p50 ${percentile(latencies, 0.5).toFixed(0)} ms p99 ${percentile(latencies, 0.99).toFixed(0)} ms over ${latencies.length} samples`);
  return latencies;
}

/** A bare kafkajs consumer: decodes every tick of the topic and commits after each batch; ticks/s. */
async function bareConsumerTicksPerS(topic: string, total: number): Promise<number> {
  const consumer = createKafka(BROKERS, 'carbon-bench-bare').consumer({ groupId: `bare-${Date.now()}`, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let firstAt = 0;
  const done = new Promise<number>((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        if (firstAt === 0) firstAt = performance.now();
        for (const m of batch.messages) if (m.value) PriceTick.decode(m.value);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
        seen += batch.messages.length;
        if (seen >= total) resolve(performance.now());
      },
    }).catch(reject);
  });
  const endedAt = await done;
  await consumer.disconnect();
  return total / ((endedAt - firstAt) / 1000);
}

/** The largest resident set of any of the current processes, sampled until stopped. */
interface RssSampler {
  watch(pids: readonly number[]): void;
  stop(): Promise<number>;
}

function rssSampler(): RssSampler {
  let pids: readonly number[] = [];
  let peak = 0;
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      for (const pid of pids) peak = Math.max(peak, rssMb(pid));
      await sleep(250);
    }
  })();
  return {
    watch(next) {
      pids = next;
    },
    async stop() {
      sampling = false;
      await loop;
      return peak;
    },
  };
}

function clusterSink(name: string, cluster: BenchCluster): Sink {
  return {
    name,
    featuresTable: 'features',
    predicted: true,
    check() {
      if (cluster.child.exitCode !== null) throw new Error(`${name}: the cluster exited (${cluster.child.exitCode})`);
    },
  };
}

/** A warmed-up cluster with every champion in service. */
async function readyCluster(env: BenchEnvironment, workers: number, extra: Record<string, string>, rss: RssSampler, publisher: KafkaTickPublisher, warmup: readonly PriceTick[], commodities: number, name: string): Promise<BenchCluster> {
  const cluster = await startBenchCluster(env, workers, { CARBON_HORIZONS: String(BENCH_HORIZON), ...extra });
  rss.watch(await cluster.workerPids());
  // Not counted as predicted: the champions may still be loading while the first of these arrive.
  await closedLoop(env, publisher, { ...clusterSink(`${name} warm-up`, cluster), predicted: false }, warmup);
  await championsInService(cluster, commodities);
  return cluster;
}

interface PeerResult {
  readonly ticksPerS: number | null;
  readonly peakRssMb: number | null;
  /** Largest relative difference of a feature value between the peer's rows and the platform's, and how many values only one of them has. */
  readonly maxRelDiff: number | null;
  readonly nullMismatches: number | null;
  readonly skipped?: string;
}

/** The peer's features against the platform's for the same ticks: the largest relative difference of any value, and the values only one side has. */
async function compareFeatures(env: BenchEnvironment, ticks: readonly PriceTick[]): Promise<{ maxRelDiff: number; nullMismatches: number }> {
  const columns = FEATURE_COLUMNS.filter((c) => c.column !== 'ts_ms');
  const relDiff = columns.filter((c) => c.sqlType !== 'bool').map((c) => `abs(p.${c.column} - f.${c.column}) / nullif(greatest(abs(p.${c.column}), abs(f.${c.column})), 0)`);
  // A boolean differs or not; a number may be NULL on one side only.
  const mismatch = columns.map((c) => c.sqlType === 'bool'
    ? `(p.${c.column} IS DISTINCT FROM f.${c.column})::int`
    : `((p.${c.column} IS NULL) <> (f.${c.column} IS NULL))::int`);
  const { rows } = await env.db.query<{ rel: number | null; mismatches: string; n: string }>(
    `SELECT max(greatest(${relDiff.join(', ')})) AS rel, sum(${mismatch.join(' + ')}) AS mismatches, count(*) AS n
       FROM peer_features p JOIN features f USING (commodity, ts_ms) WHERE ts_ms BETWEEN $1 AND $2`,
    [(ticks[0] as PriceTick).tsMs, (ticks[ticks.length - 1] as PriceTick).tsMs],
  );
  const row = rows[0];
  if (Number(row?.n) !== ticks.length) throw new Error(`the peer and the platform share ${row?.n} feature rows of ${ticks.length}`);
  return { maxRelDiff: Number(row?.rel ?? 0), nullMismatches: Number(row?.mismatches) };
}

/** The Kafka Streams peer on the same history, warm-up and capacity ticks as the platform, on topics of its own. */
async function peerCapacity(env: BenchEnvironment, threads: number, phases: { history: PriceTick[]; warmup: PriceTick[]; capacity: PriceTick[] }): Promise<PeerResult> {
  const jar = peerJar();
  if ('missing' in jar) {
    progress(`the Kafka Streams peer is left out: ${jar.missing}`);
    return { ticksPerS: null, peakRssMb: null, maxRelDiff: null, nullMismatches: null, skipped: jar.missing };
  }
  const topics = topicNames(`${env.name}.peer.`);
  const kafka = createKafka(BROKERS, 'carbon-bench-peer');
  await prepareTopics(kafka, topics, env.partitions);
  const url = new URL(env.databaseUrl);
  const peer = await startPeer({
    jar: jar.jar,
    bootstrap: BROKERS.join(','),
    inputTopic: topics.prices,
    alertsTopic: topics.alerts,
    applicationId: `${env.name}.peer`,
    jdbcUrl: `jdbc:postgresql://${url.host}${url.pathname}?user=${decodeURIComponent(url.username || 'postgres')}`,
    threads,
    batchRows: FLUSH_ROWS,
    flushMs: FLUSH_MS,
    logFile: `/tmp/${env.name}-peer.log`,
  });
  const rss = rssSampler();
  rss.watch([peer.pid]);
  const publisher = await connectKafkaTickPublisher(kafka, { topic: topics.prices, maxMessageBytes: 64 * 1024, batchSize: 2_000 });
  try {
    const sink: Sink = {
      name: 'kstreams',
      featuresTable: 'peer_features',
      predicted: false,
      check() {
        const failure = peer.failure();
        if (failure !== undefined) throw new Error(`the Kafka Streams peer ${failure}`);
      },
    };
    await closedLoop(env, publisher, { ...sink, name: 'kstreams history' }, phases.history);
    await closedLoop(env, publisher, { ...sink, name: 'kstreams warm-up' }, phases.warmup);
    const ticksPerS = await closedLoop(env, publisher, sink, phases.capacity);
    const peakRssMb = await rss.stop();
    return { ticksPerS, peakRssMb, ...(await compareFeatures(env, phases.capacity)) };
  } finally {
    await publisher.close();
    await rss.stop();
    await peer.stop();
  }
}

export default async function pipelineBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const { commodities, workers, partitions } = o;
  const env = await benchEnvironment(partitions);
  progress(`database ${env.name}, ${partitions} partitions, ${commodities} commodities, ${workers} workers`);
  const rss = rssSampler();
  const publisher = await connectKafkaTickPublisher(createKafka(BROKERS, 'carbon-bench-publisher'), {
    topic: env.topics.prices, maxMessageBytes: 64 * 1024, batchSize: 2_000,
  });
  const phases = new TickPhases(commodities);
  const take = (count: number): PriceTick[] => phases.take(count);
  let cluster: BenchCluster | undefined;
  try {
    // 1. History and champions.
    const profileDir = `/tmp/${env.name}-profiles`;
    cluster = await startBenchCluster(env, workers, {
      CARBON_HORIZONS: String(BENCH_HORIZON),
      ...(o.profile === 1 ? { CARBON_WORKER_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
    });
    rss.watch(await cluster.workerPids());
    const history = take(o.history * commodities);
    await closedLoop(env, publisher, { ...clusterSink('history (no models yet)', cluster), predicted: false }, history);
    const names = [...new Set(history.map((t) => t.commodity))].sort();
    await trainChampions(env, names);
    await championsInService(cluster, names.length);
    const warmup = take(o.warmup);
    await closedLoop(env, publisher, clusterSink('warm-up', cluster), warmup);

    // 2. Capacity and 3. latency, with transactions.
    const capacityTicks = take(o.ticks);
    const ticksPerS = await closedLoop(env, publisher, clusterSink('platform', cluster), capacityTicks);
    const rate = o.load * ticksPerS;
    const latencies = await openLoop(env, publisher, clusterSink('platform open loop', cluster), take(Math.round(rate * o.latency)), rate);
    await cluster.stop();
    if (o.profile === 1) {
      // The whole life of the workers (history and training included): where a tick's time goes, roughly.
      const top = cpuShares(profileDir).slice(0, 15).map((p) => `${p.part} ${(100 * p.share).toFixed(1)} %`);
      progress(`worker CPU by part (self time, ${profileDir}): ${top.join(', ')}`);
    }

    // 4. Without transactions.
    cluster = await readyCluster(env, workers, { CARBON_KAFKA_TRANSACTIONS: 'false' }, rss, publisher, take(o.warmup), names.length, 'no transactions');
    const noTransactionsTicksPerS = await closedLoop(env, publisher, clusterSink('platform without transactions', cluster), take(o.ticks));
    await cluster.stop();
    const peakRssMb = await rss.stop();

    // 5. The bare consumer, 6. the peer.
    const bare = await bareConsumerTicksPerS(env.topics.prices, phases.published);
    progress(`bare kafkajs consumer: ${phases.published} ticks decoded and committed at ${Math.round(bare)}/s`);
    const peer = o.peer === 0
      ? { ticksPerS: null, peakRssMb: null, maxRelDiff: null, nullMismatches: null, skipped: '--peer 0' }
      : await peerCapacity(env, workers, { history, warmup, capacity: capacityTicks });
    return {
      bench: 'pipeline',
      commodities,
      workers,
      ticks: o.ticks,
      ticks_per_s: Math.round(ticksPerS),
      p50_ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p99_ms: Number(percentile(latencies, 0.99).toFixed(1)),
      latency_rate: Math.round(rate),
      peak_rss_mb: Math.round(peakRssMb),
      bare_ticks_per_s: Math.round(bare),
      ratio: Number((ticksPerS / bare).toFixed(3)),
      ticks_per_s_no_transactions: Math.round(noTransactionsTicksPerS),
      kstreams_ticks_per_s: peer.ticksPerS === null ? null : Math.round(peer.ticksPerS),
      peer_ratio: peer.ticksPerS === null ? null : Number((ticksPerS / peer.ticksPerS).toFixed(3)),
      kstreams_peak_rss_mb: peer.peakRssMb === null ? null : Math.round(peer.peakRssMb),
      peer_features_max_rel_diff: peer.maxRelDiff,
      peer_features_null_mismatches: peer.nullMismatches,
      ...(peer.skipped === undefined ? {} : { peer_skipped: peer.skipped }),
    };
  } finally {
    await rss.stop();
    await publisher.close();
    if (cluster !== undefined && cluster.child.exitCode === null) await cluster.stop();
    await env.cleanup();
  }
}
