/**
 * The topics the workers read, fuzzed (issue 17): a seeded run of generated records (fuzz-options.ts says how many)
 * on `commodity-prices` and on `model-updates` of one running `carbon start` cluster: arbitrary bytes, mutated
 * protobuf and JSON, odd content types and keys, prices and times at the edges. Properties: no worker or primary
 * crashes and the group commits every partition to its end; every record is either accepted (its tick is stored
 * with its price; a model update is applied) or in the DLQ with a documented reason, naming its partition and
 * offset; nothing is both, nothing is neither.
 */
import test from 'ava';
import fc from 'fast-check';
import { pastTickReasons } from '../actors/commodity/past-ticks.ts';
import { MIN_TS_MS, tickRejectReasons } from '../actors/commodity/decode-tick.ts';
import { modelUpdateRejectReasons } from '../actors/model/decode-model-update.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { ModelUpdate, ModelUpdateAction } from '../proto/gen/carbon/v1/model_update.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { startCluster, testEnvironment, type RunningCluster, type TestEnvironment } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { fuzzRuns, fuzzSeed } from './fuzz-options.ts';
import { readTopic, type ReadMessage } from './ingest-kafka-helpers.ts';
import { KAFKA_BROKERS } from './services.ts';

const PARTITIONS = 4;
const MAX_MESSAGE_BYTES = 4_096;
const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(2020, 0, 1);

interface FuzzRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

/** Commodity fields: a few real ids (so that ticks meet earlier ones), near-ids and anything. */
const commodity = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('FZ_A', 'FZ_B', 'FZ_C', 'FZ_D') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,40}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);
/** Times: a few hundred days (replays and gaps among them), and the edges of what int64 and Date can hold. */
const tsMs = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 400 }).map((d) => FIRST_DAY + d * DAY_MS) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 8.64e15, 8.64e15 + 1, -8.64e15 - 1, MIN_TS_MS, MIN_TS_MS - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
);
/** Prices: ordinary ones (few distinct, so that replays repeat them), and every double. */
const price = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 50 }).map((p) => p / 2) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, -36.98, 1e15, -1e15, 1e15 + 1, 1e300, Number.NaN, Number.POSITIVE_INFINITY) },
);
const tick = fc.record({ commodity, tsMs, price, unit: fc.string({ maxLength: 12 }), source: fc.string({ maxLength: 12 }) });

type Edit = { readonly kind: 'flip'; readonly at: number; readonly byte: number } | { readonly kind: 'cut'; readonly at: number } | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
);
function mutate(bytes: Uint8Array, edits: readonly Edit[]): Buffer {
  let b = Buffer.from(bytes);
  for (const e of edits) {
    const at = e.at % (b.length + 1);
    if (e.kind === 'flip') {
      if (b.length > 0) b[at % b.length] = e.byte;
    } else if (e.kind === 'cut') {
      b = b.subarray(0, at);
    } else {
      b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    }
  }
  return b;
}

/** A JSON tick as an external producer might write it: fields missing, renamed, of the wrong type, or extra. */
const jsonTick = fc.record({
  commodity: fc.oneof(commodity, fc.jsonValue({ maxDepth: 1 })),
  tsMs: fc.oneof(tsMs, fc.jsonValue({ maxDepth: 1 })),
  ts_ms: fc.oneof(tsMs, fc.jsonValue({ maxDepth: 1 })),
  price: fc.oneof(price.filter(Number.isFinite), fc.jsonValue({ maxDepth: 1 })),
  extra: fc.jsonValue({ maxDepth: 2 }),
}, { requiredKeys: ['commodity', 'price'] });

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom('application/x-protobuf', 'application/protobuf') },
  { weight: 2, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', ' Application/JSON ') },
  { weight: 1, arbitrary: fc.constantFrom('text/csv', 'application/octet-stream', '') },
);

const priceRecord: fc.Arbitrary<FuzzRecord> = fc.record({
  tick,
  body: fc.oneof(
    { weight: 4, arbitrary: fc.constant('protobuf' as const) },
    { weight: 3, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }) },
    { weight: 2, arbitrary: jsonTick.map((j) => ({ json: j })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((u) => ({ bytes: u })) },
    { weight: 1, arbitrary: fc.constantFrom('empty' as const, 'null' as const, 'oversized' as const) },
  ),
  contentType,
  key: fc.oneof({ weight: 8, arbitrary: fc.constant('commodity' as const) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: commodity }),
}).map(({ tick: t, body, contentType: ct, key }) => {
  const encoded = PriceTick.encode(t).finish();
  let value: Buffer | null;
  let type = ct;
  if (body === 'protobuf') value = Buffer.from(encoded);
  else if (body === 'empty') value = Buffer.alloc(0);
  else if (body === 'null') value = null;
  else if (body === 'oversized') value = Buffer.concat([Buffer.from(encoded), Buffer.alloc(MAX_MESSAGE_BYTES, 1)]);
  else if (Array.isArray(body)) value = mutate(encoded, body);
  else if ('json' in body) {
    value = Buffer.from(JSON.stringify(body.json) ?? 'null');
    type ??= 'application/json';
  } else value = Buffer.from(body.bytes);
  const k = key === 'commodity' ? t.commodity : key;
  const headers: Record<string, string> = {};
  if (type !== undefined) headers['content-type'] = type;
  return { key: k === null ? null : Buffer.from(k), value, headers };
});

const updateRecord: fc.Arbitrary<FuzzRecord> = fc.record({
  update: fc.record({
    commodity,
    modelVersion: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: -5, max: -1 })),
    action: fc.oneof(fc.constantFrom(ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED, ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK, ModelUpdateAction.MODEL_UPDATE_ACTION_CHALLENGERS_CHANGED), fc.integer({ min: -2, max: 9 })),
    changedAtMs: tsMs,
    horizonTicks: fc.integer({ min: -3, max: 400 }),
  }),
  body: fc.oneof(
    { weight: 3, arbitrary: fc.constant('protobuf' as const) },
    { weight: 2, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((u) => ({ bytes: u })) },
    { weight: 1, arbitrary: fc.constantFrom('empty' as const, 'null' as const) },
  ),
}).map(({ update, body }) => {
  const encoded = ModelUpdate.encode(update).finish();
  let value: Buffer | null;
  if (body === 'protobuf') value = Buffer.from(encoded);
  else if (body === 'empty') value = Buffer.alloc(0);
  else if (body === 'null') value = null;
  else if (Array.isArray(body)) value = mutate(encoded, body);
  else value = Buffer.from(body.bytes);
  return { key: Buffer.from(update.commodity), value, headers: {} };
});

/** Sends `records` to `topic`, each to the partition its key hashes to (keyless: partition 0); returns their offsets. */
async function publish(topic: string, records: readonly FuzzRecord[]): Promise<Map<string, FuzzRecord>> {
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test-fuzz').producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const byPartition = new Map<number, FuzzRecord[]>();
    for (const r of records) {
      const p = r.key === null ? 0 : partitionOf(r.key.toString(), PARTITIONS);
      const list = byPartition.get(p) ?? [];
      list.push(r);
      byPartition.set(p, list);
    }
    const offsets = new Map<string, FuzzRecord>();
    for (const [partition, list] of byPartition) {
      for (let i = 0; i < list.length; i += 500) {
        const slice = list.slice(i, i + 500);
        const [meta] = await producer.send({ topic, acks: -1, messages: slice.map((r) => ({ partition, key: r.key, value: r.value, headers: r.headers })) });
        const base = Number(meta?.baseOffset);
        slice.forEach((r, j) => offsets.set(`${partition}:${base + j}`, r));
      }
    }
    return offsets;
  } finally {
    await producer.disconnect();
  }
}

/** The dead letters of `topic` by source `partition:offset`, each a list (model updates get one per worker). */
function lettersBySource(dlq: readonly ReadMessage[]): Map<string, ReadMessage[]> {
  const out = new Map<string, ReadMessage[]>();
  for (const m of dlq) {
    const at = `${m.headers['x-dlq-source-partition']}:${m.headers['x-dlq-source-offset']}`;
    out.set(at, [...(out.get(at) ?? []), m]);
  }
  return out;
}

/** The same sample of cases on every run of a seed: the edge is judged as a whole, after the cluster consumed it. */
function cases<T>(arbitrary: fc.Arbitrary<T>, runs: number, salt: number): T[] {
  return fc.sample(arbitrary, { seed: fuzzSeed() + salt, numRuns: runs });
}

async function committedToEnd(env: TestEnvironment, topic: string): Promise<boolean> {
  const admin = createKafka(KAFKA_BROKERS, 'carbon-test-fuzz').admin();
  await admin.connect();
  try {
    const [high, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: env.groupId, topics: [topic] })]);
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return high.every((p) => Number(p.high) === 0 || (done.get(p.partition) ?? -1) >= Number(p.high));
  } finally {
    await admin.disconnect();
  }
}

async function assertAlive(t: import('ava').ExecutionContext, cluster: RunningCluster, pids: readonly number[]): Promise<void> {
  t.deepEqual((await cluster.workerPids()).sort(), [...pids].sort(), 'no worker died');
  t.is(await cluster.metric('carbon_worker_restarts_total'), 0);
  t.is(cluster.child.exitCode, null, 'the primary runs');
}

test('garbage on commodity-prices and model-updates: every record accepted or dead-lettered with a documented reason, no worker down', async (t) => {
  const runs = fuzzRuns();
  t.timeout(180_000 + runs * 30);
  const env = await testEnvironment(t, PARTITIONS);
  const cluster = await startCluster(t, env, { CARBON_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) });
  const pids = await cluster.workerPids();

  // commodity-prices: each record is in the DLQ with a documented reason, or its tick is stored with its price.
  const priceCases = cases(priceRecord, runs, 0);
  const sent = await publish(env.topics.prices, priceCases);
  await eventually(() => committedToEnd(env, env.topics.prices), { what: 'the group committed every partition to its end', timeoutMs: 120_000 + runs * 10, intervalMs: 500 });
  const letters = lettersBySource(await readTopic(dlqOf(env.topics.prices)));
  const { rows } = await env.db.query<{ commodity: string; ts_ms: string; price: number }>('SELECT commodity, ts_ms, price FROM ticks');
  const stored = new Map(rows.map((r) => [`${r.commodity}@${r.ts_ms}`, r.price]));
  const reasons = new Set<string>([...tickRejectReasons, ...pastTickReasons, 'poison']);
  const problems: string[] = [];
  const byReason = new Map<string, number>();
  let accepted = 0;
  for (const [at, r] of sent) {
    const dead = letters.get(at) ?? [];
    if (dead.length > 1) problems.push(`${at}: dead-lettered ${dead.length} times`);
    const letter = dead[0];
    if (letter !== undefined) {
      const reason = letter.headers['x-dlq-reason'] ?? '';
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      if (!reasons.has(reason)) problems.push(`${at}: undocumented reason ${JSON.stringify(reason)}`);
      if (!(letter.value.equals(r.value ?? Buffer.alloc(0)) || (r.value !== null && r.value.length > MAX_MESSAGE_BYTES))) problems.push(`${at}: the DLQ does not hold the original bytes`);
      continue;
    }
    // Accepted: whatever the producer meant, the platform took it as this tick (the generated decoder, not the gate).
    let decoded: PriceTick | undefined;
    try {
      decoded = r.headers['content-type']?.toLowerCase().includes('json') ? PriceTick.fromJSON(JSON.parse(r.value?.toString() ?? '')) : PriceTick.decode(r.value ?? Buffer.alloc(0));
    } catch (err) {
      problems.push(`${at}: neither dead-lettered nor a tick (${(err as Error).message})`);
      continue;
    }
    accepted++;
    const price = stored.get(`${decoded.commodity}@${decoded.tsMs}`);
    if (price !== decoded.price) problems.push(`${at}: accepted as ${decoded.commodity}@${decoded.tsMs} = ${decoded.price}, stored ${price}`);
  }
  const extra = [...letters.keys()].filter((at) => !sent.has(at));
  t.deepEqual(extra, [], 'dead letters of records nobody sent');
  t.deepEqual(problems.slice(0, 20), [], `${problems.length} records neither accepted nor dead-lettered as documented`);
  t.log(`commodity-prices: ${sent.size} records, ${accepted} accepted, dead letters by reason: ${[...byReason].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await assertAlive(t, cluster, pids);

  // model-updates: every worker applies a valid update (a model swap) and dead-letters anything else once.
  const swapsBefore = await cluster.metric('carbon_model_swaps_total');
  const updateCases = cases(updateRecord, runs, 1);
  const updates = await publish(env.topics.modelUpdates, updateCases);
  const workers = pids.length;
  const refused = new Map<string, string>();
  let applied = 0;
  for (const [at, r] of updates) {
    let valid = false;
    try {
      const u = ModelUpdate.decode(r.value ?? Buffer.alloc(0));
      valid = (r.value?.length ?? 0) > 0 && /^[A-Z][A-Z0-9_]{0,31}$/.test(u.commodity) && [1, 2, 3].includes(u.action) && u.modelVersion >= 0 && u.horizonTicks >= 0;
    } catch {
      valid = false;
    }
    if (valid) applied++;
    else refused.set(at, '');
  }
  let updateLetters = new Map<string, ReadMessage[]>();
  await eventually(async () => {
    updateLetters = lettersBySource(await readTopic(dlqOf(env.topics.modelUpdates)));
    return [...refused.keys()].every((at) => (updateLetters.get(at)?.length ?? 0) >= workers) && (await cluster.metric('carbon_model_swaps_total')) - swapsBefore >= applied * workers;
  }, { what: 'every update applied or dead-lettered by every worker', timeoutMs: 120_000 + runs * 10, intervalMs: 1_000 }).catch(() => undefined);
  t.is((await cluster.metric('carbon_model_swaps_total')) - swapsBefore, applied * workers, 'each valid update applied by each worker');
  const updateReasons = new Set<string>(modelUpdateRejectReasons);
  t.deepEqual([...refused.keys()].filter((at) => updateLetters.get(at)?.length !== workers), [], 'each invalid update dead-lettered once by each worker');
  t.deepEqual([...updateLetters.keys()].filter((at) => !refused.has(at)), [], 'no valid update dead-lettered');
  t.deepEqual([...updateLetters.values()].flat().map((m) => m.headers['x-dlq-reason'] ?? '').filter((r) => !updateReasons.has(r)), [], 'documented reasons');
  t.log(`model-updates: ${updates.size} records, ${applied} valid (applied by each of ${workers} workers), ${refused.size} dead-lettered by each`);
  await assertAlive(t, cluster, pids);
});
