/**
 * The model registry on the real Postgres: round trip, promotion and rollback per commodity and horizon with
 * their service history and audit rows, challengers in the shadow, concurrent promotions, and a corrupt blob
 * refused while the models in service stay.
 */
import test, { type ExecutionContext } from 'ava';
import { computeFeatures } from '../actors/features/compute-features.ts';
import { fromTicks } from '../actors/features/window.ts';
import { decodeForecaster, ModelRegistry, RegistryError, type ModelUpdatePublisher } from '../actors/model/registry.ts';
import { garchPriceSeries } from '../actors/training/synthetic-series.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore, type SqlStore } from '../connectors/postgres/sql-store.ts';
import { ModelUpdateAction, type ModelUpdate } from '../proto/gen/carbon/v1/model_update.ts';
import { tinyForecasterModel as tinyModel } from './forecaster-fixture.ts';
import { freshDatabase } from './services.ts';

/** The features at the last of 60 synthetic ticks: a real model input. */
const features = computeFeatures(fromTicks(garchPriceSeries({ length: 60, seed: 1 })), 60);

async function setup(t: ExecutionContext): Promise<{ sql: SqlStore; registry: ModelRegistry; updates: ModelUpdate[] }> {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await migrate(sql);
  const updates: ModelUpdate[] = [];
  // The in-process side of the announcement port (the Kafka side is tested in ml-model-updates.test.ts).
  const publisher: ModelUpdatePublisher = { publish: async (u) => void updates.push(u) };
  return { sql, registry: new ModelRegistry(sqlModelStore(sql), publisher), updates };
}

/** The champion version of a commodity's horizon, undefined when none. */
async function championOf(registry: ModelRegistry, commodity: string, horizonTicks = 1): Promise<number | undefined> {
  const { served } = await registry.loadServing(commodity);
  return served.find((s) => s.status === 'active' && s.forecaster.horizonTicks === horizonTicks)?.version;
}

async function auditRows(sql: SqlStore) {
  const { rows } = await sql.query<{ actor: string; action: string; subject: string; details: Record<string, unknown> }>(
    'SELECT actor, action, subject, details FROM audit_log ORDER BY id',
  );
  return rows;
}

test('a saved candidate round-trips: family, parameters, metrics, bytes, and a forecaster that forecasts', async (t) => {
  const { registry } = await setup(t);
  const model = tinyModel('WTI', 1);
  const version = await registry.saveCandidate(model);
  const stored = await registry.show(version);
  t.is(stored.status, 'candidate');
  t.is(stored.commodity, 'WTI');
  t.is(stored.family, 'forest');
  t.deepEqual(stored.params, JSON.parse(JSON.stringify(model.params)));
  t.deepEqual(stored.metrics, model.metrics);
  t.deepEqual(Buffer.from(stored.blob), Buffer.from(model.blob));
  t.is(stored.sizeBytes, model.blob.length);
  t.is(stored.trainFromMs, model.trainFromMs);
  t.true(Math.abs(stored.trainedAtMs - Date.now()) < 600_000);
  const [listed] = await registry.list({ commodity: 'WTI' });
  t.is(listed?.version, version);

  const forecast = decodeForecaster(stored).forecast(features);
  t.true(forecast.ok);
  if (forecast.ok) {
    t.true(forecast.distribution.quantiles[1]! < forecast.distribution.quantiles[5]!);
    t.true(forecast.distribution.probabilityUp > 0 && forecast.distribution.probabilityUp < 1);
  }
  t.is(await championOf(registry, 'WTI'), undefined, 'a candidate is not in service');
  const baseline = await registry.show(await registry.saveCandidate(tinyModel('WTI', 2, { family: 'no_change' })));
  t.is(baseline.blob.length, 0, 'a baseline holds no forest');
  t.true(decodeForecaster(baseline).forecast(features).ok);
});

test('each horizon has its own champion; challengers go into the shadow, one per family, and a challenger that takes over leaves the old champion in the shadow', async (t) => {
  const { sql, registry } = await setup(t);
  const h1 = await registry.saveCandidate(tinyModel('WTI', 1, { family: 'no_change' }));
  const h5 = await registry.saveCandidate(tinyModel('WTI', 1, { family: 'no_change', horizonTicks: 5 }));
  await registry.promote(h1, { actor: 'trainer', reason: 'champion' });
  await registry.promote(h5, { actor: 'trainer', reason: 'champion' });
  t.is(await championOf(registry, 'WTI', 1), h1);
  t.is(await championOf(registry, 'WTI', 5), h5);
  const forestA = await registry.saveCandidate(tinyModel('WTI', 2));
  await registry.shadow(forestA, { actor: 'trainer', reason: 'challenger' });
  const forestB = await registry.saveCandidate(tinyModel('WTI', 3));
  await registry.shadow(forestB, { actor: 'trainer', reason: 'challenger' });
  t.is((await registry.show(forestA)).status, 'retired', 'a newer challenger of the same family replaces it');
  t.is((await registry.show(forestB)).status, 'shadow');
  const err = await t.throwsAsync(registry.shadow(forestB, { actor: 'trainer', reason: 'again' }), { instanceOf: RegistryError });
  t.is(err?.code, 'MODEL_NOT_CANDIDATE');

  const change = await registry.promote(forestB, { actor: 'shadow-scoring', reason: 'beat the champion', expectedActiveVersion: h1, previousBecomes: 'shadow', evidence: { outcomes: 300 } });
  t.deepEqual([change.change.version, change.change.previousVersion, change.change.horizonTicks], [forestB, h1, 1]);
  t.is((await registry.show(h1)).status, 'shadow', 'the old champion forecasts on in the shadow');
  t.is(await championOf(registry, 'WTI', 5), h5, 'the other horizon is untouched');
  const { served } = await registry.loadServing('WTI');
  t.deepEqual(served.map((s) => [s.version, s.status]).sort(), [[h1, 'shadow'], [h5, 'active'], [forestB, 'active']].sort());
  const promote = (await auditRows(sql)).filter((a) => a.action === 'model.promote').at(-1)!;
  t.like(promote, { actor: 'shadow-scoring', details: { version: forestB, previousVersion: h1, horizonTicks: 1, family: 'forest', outcomes: 300 } });
  t.deepEqual((await registry.serviceHistory('WTI')).map((h) => [h.horizonTicks, h.modelVersion]), [[1, h1], [5, h5], [1, forestB]]);
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
  t.is(await championOf(registry, 'WTI'), v2);
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
  const back = await registry.rollback('BRENT', 1, { actor: 'alice', reason: 'bad fills' });
  t.deepEqual([back.change.version, back.change.previousVersion], [v2, v3]);
  t.is((await registry.show(v3)).status, 'rejected');
  t.is((await registry.show(v2)).status, 'active');
  // A second rollback goes further back, never to the version just rolled back.
  await registry.rollback('BRENT', 1, { actor: 'alice', reason: 'still bad' });
  t.is(await championOf(registry, 'BRENT'), v1);
  const err = await t.throwsAsync(registry.rollback('BRENT', 1, { actor: 'alice', reason: 'x' }), { instanceOf: RegistryError });
  t.is(err?.code, 'NO_PREVIOUS_VERSION');
  const none = await t.throwsAsync(registry.rollback('GOLD', 1, { actor: 'alice', reason: 'x' }), { instanceOf: RegistryError });
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
  t.is(history.at(-1)!.modelVersion, (await championOf(registry, 'HENRY_HUB'))!);
});

test('a corrupt blob is refused with an error naming the version, and the models in service stay', async (t) => {
  const { sql, registry } = await setup(t);
  const good = await registry.saveCandidate(tinyModel('WTI', 1));
  await registry.promote(good, { actor: 'trainer', reason: 'ok' });
  const bad = await registry.saveCandidate(tinyModel('WTI', 2, { family: 'pooled_forest' }));
  // Flip one byte in the middle of the payload: the checksum catches it.
  await sql.query(`UPDATE models SET model = overlay(model PLACING '\\xff'::bytea FROM 200 FOR 1) WHERE version = $1`, [bad]);
  const promoted = await t.throwsAsync(registry.promote(bad, { actor: 'ops', reason: 'try' }), { instanceOf: RegistryError });
  t.is(promoted?.code, 'MODEL_CORRUPT');
  t.regex(promoted?.message ?? '', new RegExp(`model v${bad} \\(WTI, pooled_forest, 1 tick\\(s\\)\\) is refused: corrupt forest buffer: checksum mismatch`));
  const shadowed = await t.throwsAsync(registry.shadow(bad, { actor: 'ops', reason: 'try' }), { instanceOf: RegistryError });
  t.is(shadowed?.code, 'MODEL_CORRUPT');
  t.is((await registry.show(good)).status, 'active', 'a corrupt model is never put into service');

  // Had it got there by other means, the worker's load refuses it alone and serves the rest.
  await sql.query(`UPDATE models SET status = 'shadow' WHERE version = $1`, [bad]);
  const loaded = await registry.loadServing('WTI');
  t.deepEqual(loaded.served.map((s) => s.version), [good]);
  t.deepEqual(loaded.refused.map((e) => e.code), ['MODEL_CORRUPT']);
  await sql.query(`UPDATE models SET model = substring(model FROM 1 FOR 20) WHERE version = $1`, [bad]);
  t.regex((await registry.loadServing('WTI')).refused[0]!.message, /shorter than the 32-byte header/);
  await sql.query(`UPDATE models SET params = '{"forecaster": {"family": "forest"}}'::jsonb WHERE version = $1`, [bad]);
  t.is((await registry.loadServing('WTI')).refused[0]!.code, 'MODEL_INCOMPATIBLE');
});
