/**
 * `npm run bench -- pipeline [options]` (`--help` lists them with their defaults):
 * synthetic ticks published at a fixed rate through a real `carbon start` cluster, measured from publish to durable
 * feature rows; then, in the same run, a bare kafkajs consumer reading the same topic and doing nothing.
 * A warm-up of `warmup` seconds at the same rate comes first (actors spawned, history and models loaded, hot
 * paths compiled): ticks/s, p50 and p99 are those of the `ticks` after it, `warmup_p99_ms` that of the warm-up.
 * Latency is sampled on every 97th tick: its `features.stored_at` (the clock time of the row's write, the last
 * statement of its transaction, so just before the commit) minus the time
 * its slice was acknowledged by the broker.
 */
import { syntheticTicks } from '../actors/ingest/sources/synthetic-source.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { BROKERS, benchEnvironment, percentile, progress, rssMb, startBenchCluster } from './_cluster.ts';

async function bareConsumerTicksPerS(topic: string, total: number): Promise<number> {
  const consumer = createKafka(BROKERS, 'carbon-bench-bare').consumer({ groupId: `bare-${Date.now()}`, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let firstAt = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        if (firstAt === 0) firstAt = performance.now();
        seen += batch.messages.length;
        if (seen >= total) resolve(performance.now());
      },
    });
  });
  const started = performance.now();
  const endedAt = await done;
  await consumer.disconnect();
  return total / ((endedAt - started) / 1000);
}

export const summary = 'Ticks from the prices topic to durable feature rows through a real cluster, at a fixed rate: ticks/s, latency and memory, against a bare kafkajs consumer of the same topic.';

export const options = {
  ticks: { default: 1_000_000, help: 'ticks measured after the warm-up', integer: true },
  commodities: { default: 200, help: 'synthetic commodities', integer: true },
  workers: { default: 2, help: 'worker processes', integer: true },
  rate: { default: 26_000, help: 'ticks/s published' },
  partitions: { default: 12, help: 'partitions of the prices topic', integer: true },
  warmup: { default: 5, help: 'warm-up at the same rate before the measured ticks, s' },
} as const satisfies OptionSpecs;

export default async function pipelineBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const { commodities, workers, rate, partitions } = o;
  const total = o.ticks;
  const warmupSeconds = o.warmup;
  const env = await benchEnvironment(partitions);
  progress(`database ${env.name}, ${partitions} partitions; starting ${workers} workers`);
  const cluster = await startBenchCluster(env, workers);
  try {
    const publisher = await connectKafkaTickPublisher(createKafka(BROKERS, 'carbon-bench-publisher'), {
      topic: env.topics.prices, maxMessageBytes: 64 * 1024, batchSize: 2_000,
    });
    const pids = await cluster.workerPids();
    let peakRss = 0;
    let maxLag = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const pid of pids) peakRss = Math.max(peakRss, rssMb(pid));
        maxLag = Math.max(maxLag, await cluster.metric('carbon_consumer_lag_messages').catch(() => 0));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // Two phases over one stream: `warmup` seconds at the same rate (the workers spawn their actors, load the
    // commodities' history and models, and the JIT compiles the hot paths), then the measured `total` ticks.
    // Both are sampled; the warm-up's latency is reported apart, not dropped.
    const warmupTicks = Math.round(rate * warmupSeconds);
    type Sample = { commodity: string; tsMs: number; sentAt: number };
    const samples: { warmup: Sample[]; measured: Sample[] } = { warmup: [], measured: [] };
    const slice = Math.max(1, Math.round(rate / 20));
    const ticks = syntheticTicks({ seed: 254, commodities, ticks: warmupTicks + total, startMs: Date.UTC(2000, 0, 1), intervalMs: 60_000 });
    let phaseStarted = performance.now();
    let startedWall = Date.now();
    let phase: keyof typeof samples = 'warmup';
    let phaseEnd = warmupTicks;
    let sent = 0;
    let batch: PriceTick[] = [];
    let lastReport = phaseStarted;
    for (const tick of ticks) {
      batch.push(tick);
      if (batch.length < slice && sent + batch.length < phaseEnd) continue;
      if (phase === 'warmup' && sent >= warmupTicks) {
        phase = 'measured';
        phaseEnd = warmupTicks + total;
        phaseStarted = performance.now();
        startedWall = Date.now();
        progress(`warm-up done (${warmupTicks} ticks); measuring ${total} ticks`);
      }
      const firstIndex = sent;
      await publisher.publish(batch);
      await publisher.flush();
      const ackWall = Date.now();
      for (let i = 0; i < batch.length; i++) {
        if ((firstIndex + i) % 97 === 0) {
          const tk = batch[i] as PriceTick;
          samples[phase].push({ commodity: tk.commodity, tsMs: tk.tsMs, sentAt: ackWall });
        }
      }
      sent += batch.length;
      batch = [];
      // Paced against the phase's absolute schedule, so that a slow slice is caught up rather than drifting.
      const phaseSent = phase === 'warmup' ? sent : sent - warmupTicks;
      const dueMs = (phaseSent / rate) * 1000 - (performance.now() - phaseStarted);
      if (dueMs > 0) await new Promise((r) => setTimeout(r, dueMs));
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        progress(`${phase}: published ${phaseSent} of ${phase === 'warmup' ? warmupTicks : total}, lag ${maxLag}, peak worker RSS ${peakRss.toFixed(0)} MB`);
      }
    }
    await publisher.close();
    progress(`published ${total} in ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s; waiting for durable features`);
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const { rows } = await env.db.query<{ n: string }>('SELECT count(*) AS n FROM features');
      const n = Number(rows[0]?.n ?? 0);
      if (n >= warmupTicks + total) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${warmupTicks + total} feature rows after 10 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
    sampling = false;
    await sampler;
    const { rows: last } = await env.db.query<{ ms: string }>('SELECT extract(epoch from max(stored_at)) * 1000 AS ms FROM features');
    const elapsedS = (Number(last[0]?.ms) - startedWall) / 1000;
    const latenciesOf = async (keys: readonly Sample[]): Promise<number[]> => {
      const { rows: stored } = await env.db.query<{ commodity: string; ts_ms: number; ms: string }>(
        `SELECT f.commodity, f.ts_ms, extract(epoch from f.stored_at) * 1000 AS ms
           FROM features f JOIN unnest($1::text[], $2::bigint[]) AS k(commodity, ts_ms) USING (commodity, ts_ms)`,
        [keys.map((k) => k.commodity), keys.map((k) => k.tsMs)],
      );
      const sentAt = new Map(keys.map((k) => [`${k.commodity}@${k.tsMs}`, k.sentAt]));
      return stored.map((r) => Number(r.ms) - (sentAt.get(`${r.commodity}@${r.ts_ms}`) ?? Number.NaN)).filter(Number.isFinite).sort((a, b) => a - b);
    };
    const latencies = await latenciesOf(samples.measured);
    const warmupLatencies = await latenciesOf(samples.warmup);
    progress(`warm-up latency p50 ${percentile(warmupLatencies, 0.5).toFixed(0)} ms p99 ${percentile(warmupLatencies, 0.99).toFixed(0)} ms max ${(warmupLatencies[warmupLatencies.length - 1] ?? Number.NaN).toFixed(0)} ms`);
    progress(`pipeline: ${total} ticks durable in ${elapsedS.toFixed(1)} s; measuring a bare consumer on the same topic`);
    await cluster.stop();
    const bare = await bareConsumerTicksPerS(env.topics.prices, warmupTicks + total);
    const ticksPerS = total / elapsedS;
    return {
      bench: 'pipeline',
      ticks: total,
      commodities,
      workers,
      publish_rate: rate,
      ticks_per_s: Math.round(ticksPerS),
      bare_ticks_per_s: Math.round(bare),
      ratio: Number((ticksPerS / bare).toFixed(3)),
      p50_ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p99_ms: Number(percentile(latencies, 0.99).toFixed(1)),
      max_lag: maxLag,
      peak_rss_mb: Math.round(peakRss),
      warmup_s: warmupSeconds,
      warmup_p99_ms: Number(percentile(warmupLatencies, 0.99).toFixed(1)),
    };
  } finally {
    if (cluster.child.exitCode === null) await cluster.stop();
    await env.cleanup();
  }
}
