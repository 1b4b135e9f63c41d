/**
 * `npm run bench -- ingest [options]` (`--help` lists them with their defaults): publishes N (`--ticks`)
 * synthetic ticks through the real ingest path (synthetic source -> validation -> Kafka tick publisher) to a
 * fresh topic, and N messages of the same sizes (same keys, timestamps, headers and value sizes) with a bare
 * kafkajs producer of the same settings and batch size, its sends chained one after the other as the publisher's
 * are. ratio = ingest rate / bare rate. The bare producer's messages have keys only (kafkajs's DefaultPartitioner
 * hashes each); the publisher's carry the partition it computed once per commodity with the same function.
 * The machine is shared and its load drifts, so the two are measured in R (`--rounds`) alternating rounds of N/R ticks each
 * (bare then ingest, then ingest then bare, ...), each ingest round a complete ingest run, and the times summed:
 * both sides see the same conditions. Needs the broker of `npm run services:up` (KAFKA_BROKERS, default
 * 127.0.0.1:9092). Deletes its topics.
 */
import { randomBytes } from 'node:crypto';
import type { Message, Producer } from 'kafkajs';
import { runIngest } from '../actors/ingest/ingest-job.ts';
import { SyntheticSource, syntheticTicks, type SyntheticOptions } from '../actors/ingest/sources/synthetic-source.ts';
import { validationContext } from '../actors/ingest/validate.ts';
import { createKafka, ensureTopics } from '../connectors/kafka/client.ts';
import { KafkaTickPublisher, tickProducerConfig } from '../connectors/kafka/tick-publisher.ts';
import { contentTypes, topicNames } from '../connectors/kafka/topics.ts';
import { logger } from '../platform/logger.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';

const log = logger.child({ component: 'bench-ingest' });

/** The bare producer's messages: one batch of real encoded ticks, sent again and again (kafkajs does not mutate it). */
function bareBatch(synthetic: SyntheticOptions, batchSize: number): Message[] {
  const headers = { 'content-type': contentTypes.protobuf };
  const messages: Message[] = [];
  for (const tick of syntheticTicks({ ...synthetic, ticks: batchSize })) {
    messages.push({ key: Buffer.from(tick.commodity), value: Buffer.from(PriceTick.encode(tick).finish()), timestamp: String(tick.tsMs), headers });
  }
  return messages;
}

/** Sends `total` messages in batches, one send after the other (the publisher chains its sends too, for order). */
async function sendBare(producer: Producer, topic: string, batch: Message[], total: number): Promise<number> {
  const startedMs = performance.now();
  for (let sent = 0; sent < total; sent += batch.length) {
    const messages = total - sent >= batch.length ? batch : batch.slice(0, total - sent);
    await producer.send({ topic, messages, acks: -1 });
  }
  return performance.now() - startedMs;
}

async function ingestPath(producer: Producer, topic: string, partitions: number, synthetic: SyntheticOptions, batchSize: number): Promise<number> {
  const publisher = new KafkaTickPublisher(producer, { topic, partitions, batchSize, maxMessageBytes: 64 * 1024 });
  const startedMs = performance.now();
  const summary = await runIngest({
    source: new SyntheticSource(synthetic),
    publisher,
    batchSize,
    validation: validationContext({ nowMs: Date.now() }),
  });
  const elapsedMs = performance.now() - startedMs;
  if (summary.published !== synthetic.ticks) throw new Error(`published ${summary.published} of ${synthetic.ticks} ticks (rejected ${summary.rejectedTotal})`);
  return elapsedMs;
}

export const summary = 'carbon ingest publishing synthetic ticks to Kafka, against a bare kafkajs producer sending the same encoded batches, in alternating rounds.';

export const options = {
  ticks: { default: 1_000_000, help: 'ticks published by each side, split over the rounds', integer: true },
  rounds: { default: 10, help: 'alternating rounds of each', integer: true },
  commodities: { default: 10, help: 'synthetic commodities', integer: true },
  'batch-size': { default: 5_000, help: 'ticks per batch sent', integer: true },
  partitions: { default: 12, help: 'partitions of the prices topic', integer: true },
} as const satisfies OptionSpecs;

export default async function ingestBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const { ticks, rounds, commodities, partitions } = o;
  const batchSize = o['batch-size'];
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  // Ticks one second apart from a fixed start: deterministic, in the past, and accepted by the broker.
  const synthetic: SyntheticOptions = { seed: 42, commodities, ticks, startMs: Date.UTC(2024, 0, 1), intervalMs: 1_000 };
  const warmup: SyntheticOptions = { ...synthetic, ticks: Math.min(ticks, 100_000) };

  const kafka = createKafka(brokers, 'carbon-bench');
  const prefix = `bench_${randomBytes(4).toString('hex')}.`;
  const ingestTopics = topicNames(`${prefix}ingest.`);
  const bareTopics = topicNames(`${prefix}bare.`);
  const warmTopics = topicNames(`${prefix}warm.`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const t of [ingestTopics, bareTopics, warmTopics]) await ensureTopics(admin, t, partitions);
    const ingestProducer = kafka.producer(tickProducerConfig);
    const bareProducer = kafka.producer(tickProducerConfig);
    await ingestProducer.connect();
    await bareProducer.connect();
    try {
      const batch = bareBatch(synthetic, batchSize);
      const valueBytes = batch.reduce((s, m) => s + (m.value as Buffer).length, 0) / batch.length;
      // Warm-up of both paths (JIT, connections, metadata, broker page cache) on other topics.
      await ingestPath(ingestProducer, warmTopics.prices, partitions, warmup, batchSize);
      await sendBare(bareProducer, warmTopics.predictions, batch, warmup.ticks);

      let bareMs = 0;
      let ingestMs = 0;
      // CPU time of this process on each side: less sensitive to the other tenants of the machine than wall time.
      let bareCpuUs = 0;
      let ingestCpuUs = 0;
      const cpuUs = (): number => {
        const u = process.cpuUsage();
        return u.user + u.system;
      };
      let done = 0;
      for (let r = 0; r < rounds; r++) {
        const n = Math.floor((ticks * (r + 1)) / rounds) - done;
        // Each round ingests the next stretch of time, so that the topic holds N distinct ticks.
        const round: SyntheticOptions = { ...synthetic, seed: synthetic.seed + r, ticks: n, startMs: synthetic.startMs + (done / commodities) * synthetic.intervalMs * 2 };
        const bareFirst = r % 2 === 0;
        const bare = async (): Promise<void> => {
          const cpu0 = cpuUs();
          bareMs += await sendBare(bareProducer, bareTopics.prices, batch, n);
          bareCpuUs += cpuUs() - cpu0;
        };
        if (bareFirst) await bare();
        const cpu0 = cpuUs();
        ingestMs += await ingestPath(ingestProducer, ingestTopics.prices, partitions, round, batchSize);
        ingestCpuUs += cpuUs() - cpu0;
        if (!bareFirst) await bare();
        done += n;
        log.info('bench_round_done', { round: r + 1, rounds, ticks: done, bareMs: Math.round(bareMs), ingestMs: Math.round(ingestMs) });
      }

      const ticksPerS = Math.round(ticks / (ingestMs / 1000));
      const bareTicksPerS = Math.round(ticks / (bareMs / 1000));
      return {
        bench: 'ingest',
        ticks,
        ticks_per_s: ticksPerS,
        bare_ticks_per_s: bareTicksPerS,
        ratio: Math.round((ticksPerS / bareTicksPerS) * 1000) / 1000,
        cpu_us_per_tick: Math.round((ingestCpuUs / ticks) * 100) / 100,
        bare_cpu_us_per_tick: Math.round((bareCpuUs / ticks) * 100) / 100,
        rounds,
        commodities,
        batch_size: batchSize,
        partitions,
        value_bytes: Math.round(valueBytes * 10) / 10,
      };
    } finally {
      await ingestProducer.disconnect();
      await bareProducer.disconnect();
    }
  } finally {
    const mine = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  }
}
