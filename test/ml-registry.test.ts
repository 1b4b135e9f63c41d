/**
 * The model registry on the real Postgres: round trip, promotion and rollback with their service history and
 * audit rows, concurrent promotions, and a corrupt blob refused while the replica in service stays.
 */
import test, { type ExecutionContext } from 'ava';
import { computeFeatures, FEATURE_NAMES } from '../actors/features/compute-features.ts';
import { fromTicks } from '../actors/features/window.ts';
import { trainForest } from '../actors/model/forest/train-forest.ts';
import {
  COMPACT_FOREST_FORMAT,
  ModelRegistry,
  RegistryError,
  type ModelUpdatePublisher,
  type NewModel,
} from '../actors/model/registry.ts';
import { ar1PriceSeries, seededUniform } from '../actors/training/synthetic-series.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { sqlModelStore } from '../connectors/postgres/model-store.ts';
import { postgresStore, type SqlStore } from '../connectors/postgres/sql-store.ts';
import { ModelUpdateAction, type ModelUpdate } from '../proto/gen/carbon/v1/model_update.ts';
import { freshDatabase } from './services.ts';

const nFeatures = FEATURE_NAMES.length;

/** A small real forest, its serialized form and the params a replica needs. */
function tinyModel(commodity: string, seed: number, halfWidth = 0.02): NewModel {
  const u = seededUniform(seed);
  const rows = 200;
  const x = Float64Array.from({ length: rows * nFeatures }, () => u() - 0.5);
  const y = Float64Array.from({ length: rows }, (_, r) => x[r * nFeatures]! * 0.1 + (u() - 0.5) * 0.01);
  const forest = trainForest(x, y, nFeatures, { nTrees: 8, maxDepth: 4, seed });
  return {
    commodity,
    params: { featureNames: [...FEATURE_NAMES], interval: { level: 0.8, halfWidth }, forest: { trees: 8, maxDepth: 4, seed } },
    metrics: { walkForward: { pooled: { model: { mase: 0.99, directionalAccuracy: 0.55 }, majority: { directionalAccuracy: 0.52 } } } },
    format: COMPACT_FOREST_FORMAT,
    blob: forest.toBuffer(),
    horizonTicks: 1,
    trainFromMs: Date.UTC(2020, 0, 1),
    trainToMs: Date.UTC(2021, 0, 1),
    trainRows: rows,
  };
}

/** The features at the last of 60 synthetic ticks: a real model input. */
const features = computeFeatures(fromTicks(ar1PriceSeries({ length: 60, phi: 0.2, seed: 1 })), 60);

async function setup(t: ExecutionContext): Promise<{ sql: SqlStore; registry: ModelRegistry; updates: ModelUpdate[] }> {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await migrate(sql);
  const updates: ModelUpdate[] = [];
  // The in-process side of the announcement port (the Kafka side is tested in ml-model-updates.test.ts).
  const publisher: ModelUpdatePublisher = { publish: async (u) => void updates.push(u) };
  return { sql, registry: new ModelRegistry(sqlModelStore(sql), publisher), updates };
}

async function auditRows(sql: SqlStore) {
  const { rows } = await sql.query<{ actor: string; action: string; subject: string; details: Record<string, unknown> }>(
    'SELECT actor, action, subject, details FROM audit_log ORDER BY id',
  );
  return rows;
}

test('a saved candidate round-trips: parameters, metrics, bytes, and a replica that predicts like the forest', async (t) => {
  const { registry } = await setup(t);
  const model = tinyModel('WTI', 1);
  const version = await registry.saveCandidate(model);
  const stored = await registry.show(version);
  t.is(stored.status, 'candidate');
  t.is(stored.commodity, 'WTI');
  t.deepEqual(stored.params, model.params);
  t.deepEqual(stored.metrics, model.metrics);
  t.deepEqual(Buffer.from(stored.blob), Buffer.from(model.blob));
  t.is(stored.sizeBytes, model.blob.length);
  t.is(stored.trainFromMs, model.trainFromMs);
  t.true(Math.abs(stored.trainedAtMs - Date.now()) < 600_000);
  const [listed] = await registry.list({ commodity: 'WTI' });
  t.is(listed?.version, version);

  const replica = await registry.loadReplica(version);
  const p = replica.predict(features)!;
  t.is(p.modelVersion, version);
  t.true(Math.abs(p.interval.highReturn - p.interval.lowReturn - 0.04) < 1e-12);
  t.true(p.probabilityUp >= 0 && p.probabilityUp <= 1);
  t.true(p.inferenceUs >= 0);
  t.is(await registry.loadActiveReplica('WTI'), undefined, 'a candidate is not in service');
});

test('promotion retires the version in service, keeps the service history, writes audit rows and announces', async (t) => {
  const { sql, registry, updates } = await setup(t);
  const v1 = await registry.saveCandidate(tinyModel('WTI', 1));
  const v2 = await registry.saveCandidate(tinyModel('WTI', 2));
  const first = await registry.promote(v1, { actor: 'trainer', reason: 'first model', expectedActiveVersion: null });
  t.deepEqual([first.change.previousVersion, first.announced], [null, true]);
  await registry.promote(v2, { actor: 'trainer', reason: 'better', expectedActiveVersion: v1 });

  t.is((await registry.show(v1)).status, 'retired');
  t.is((await registry.show(v2)).status, 'active');
  t.is((await registry.loadActiveReplica('WTI'))?.version, v2);
  const history = await registry.serviceHistory('WTI');
  t.deepEqual(history.map((h) => h.modelVersion), [v1, v2]);
  t.is(history[0]!.toMs, history[1]!.fromMs, 'one period ends where the next begins');
  t.is(history[1]!.toMs, null);
  const audit = await auditRows(sql);
  t.deepEqual(audit.map((a) => [a.action, a.subject, a.details.version, a.details.previousVersion]), [
    ['model.promote', 'WTI', v1, null],
    ['model.promote', 'WTI', v2, v1],
  ]);
  t.deepEqual(updates.map((u) => [u.commodity, u.modelVersion, u.action]), [
    ['WTI', v1, ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED],
    ['WTI', v2, ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED],
  ]);

  const stale = await registry.saveCandidate(tinyModel('WTI', 3));
  const err = await t.throwsAsync(registry.promote(stale, { actor: 'trainer', reason: 'x', expectedActiveVersion: v1 }), { instanceOf: RegistryError });
  t.is(err?.code, 'ACTIVE_MODEL_CHANGED');
  t.is((await registry.show(v2)).status, 'active', 'a refused promotion changes nothing');
  const again = await t.throwsAsync(registry.promote(v2, { actor: 'ops', reason: 'x' }), { instanceOf: RegistryError });
  t.is(again?.code, 'MODEL_ALREADY_ACTIVE');
});

test('rollback re-activates the version that served before, rejects the rolled-back one, and stops at the first', async (t) => {
  const { sql, registry, updates } = await setup(t);
  const versions: number[] = [];
  for (const seed of [1, 2, 3]) {
    const v = await registry.saveCandidate(tinyModel('BRENT', seed));
    await registry.promote(v, { actor: 'trainer', reason: 'rule passed' });
    versions.push(v);
  }
  const [v1, v2, v3] = versions as [number, number, number];
  const back = await registry.rollback('BRENT', { actor: 'alice', reason: 'bad fills' });
  t.deepEqual([back.change.version, back.change.previousVersion], [v2, v3]);
  t.is((await registry.show(v3)).status, 'rejected');
  t.is((await registry.show(v2)).status, 'active');
  // A second rollback goes further back, never to the version just rolled back.
  await registry.rollback('BRENT', { actor: 'alice', reason: 'still bad' });
  t.is((await registry.loadActiveReplica('BRENT'))?.version, v1);
  const err = await t.throwsAsync(registry.rollback('BRENT', { actor: 'alice', reason: 'x' }), { instanceOf: RegistryError });
  t.is(err?.code, 'NO_PREVIOUS_VERSION');
  const none = await t.throwsAsync(registry.rollback('GOLD', { actor: 'alice', reason: 'x' }), { instanceOf: RegistryError });
  t.is(none?.code, 'NO_ACTIVE_MODEL');

  t.deepEqual((await registry.serviceHistory('BRENT')).map((h) => h.modelVersion), [v1, v2, v3, v2, v1]);
  const rollbacks = (await auditRows(sql)).filter((a) => a.action === 'model.rollback');
  t.deepEqual(rollbacks.map((a) => [a.actor, a.details.version, a.details.rolledBackVersion]), [
    ['alice', v2, v3],
    ['alice', v1, v2],
  ]);
  t.deepEqual(updates.slice(-2).map((u) => [u.modelVersion, u.action]), [
    [v2, ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK],
    [v1, ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK],
  ]);
});

test('rejecting a candidate records why; only candidates can be rejected', async (t) => {
  const { sql, registry } = await setup(t);
  const v = await registry.saveCandidate(tinyModel('GOLD', 1));
  await registry.reject(v, { actor: 'trainer', reason: 'promotion rule', reasons: ['MASE 1.0100 >= 1'] });
  t.is((await registry.show(v)).status, 'rejected');
  const [row] = await auditRows(sql);
  t.deepEqual([row?.action, row?.details.reasons], ['model.reject', ['MASE 1.0100 >= 1']]);
  const err = await t.throwsAsync(registry.reject(v, { actor: 'trainer', reason: 'x', reasons: [] }), { instanceOf: RegistryError });
  t.is(err?.code, 'MODEL_NOT_CANDIDATE');
});

test('concurrent promotions of one commodity serialize: one active version, one open service period', async (t) => {
  const { sql, registry } = await setup(t);
  const vs = await Promise.all([1, 2, 3, 4].map((s) => registry.saveCandidate(tinyModel('HENRY_HUB', s))));
  await Promise.all(vs.map((v) => registry.promote(v, { actor: 'ops', reason: 'race' })));
  const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM models WHERE status = 'active'`);
  t.is(rows[0]!.n, 1);
  const history = await registry.serviceHistory('HENRY_HUB');
  t.is(history.length, 4);
  t.is(history.filter((h) => h.toMs === null).length, 1);
  t.is(history.at(-1)!.modelVersion, (await registry.loadActiveReplica('HENRY_HUB'))!.version);
});

test('a corrupt blob is refused with an error naming the version, and the replica in service stays', async (t) => {
  const { sql, registry } = await setup(t);
  const good = await registry.saveCandidate(tinyModel('WTI', 1));
  await registry.promote(good, { actor: 'trainer', reason: 'ok' });
  let replica = (await registry.loadActiveReplica('WTI'))!;
  const before = replica.predict(features);

  const bad = await registry.saveCandidate(tinyModel('WTI', 2));
  // Flip one byte in the middle of the payload: the checksum catches it.
  await sql.query(`UPDATE models SET model = overlay(model PLACING '\\xff'::bytea FROM 200 FOR 1) WHERE version = $1`, [bad]);
  const swap = await registry.trySwapReplica(replica, bad);
  t.false(swap.swapped);
  t.is(swap.replica, replica);
  t.is(swap.swapped ? undefined : swap.error.code, 'MODEL_CORRUPT');
  t.regex(swap.swapped ? '' : swap.error.message, new RegExp(`model v${bad} \\(WTI\\) is refused: corrupt forest buffer: checksum mismatch`));
  replica = swap.replica!;
  t.deepEqual({ ...replica.predict(features), inferenceUs: 0 }, { ...before, inferenceUs: 0 });

  const promoted = await t.throwsAsync(registry.promote(bad, { actor: 'ops', reason: 'try' }), { instanceOf: RegistryError });
  t.is(promoted?.code, 'MODEL_CORRUPT');
  t.is((await registry.show(good)).status, 'active', 'a corrupt model is never put into service');

  await sql.query(`UPDATE models SET model = substring(model FROM 1 FOR 20) WHERE version = $1`, [bad]);
  const truncated = await registry.trySwapReplica(replica, bad);
  t.regex(truncated.swapped ? '' : truncated.error.message, /shorter than the 32-byte header/);

  const other = await registry.saveCandidate(tinyModel('WTI', 3));
  const fine = await registry.trySwapReplica(replica, other);
  t.true(fine.swapped);
  t.is(fine.replica?.version, other);
});
