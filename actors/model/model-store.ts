/**
 * The model registry's SQL (tables `models`, `model_service`, `audit_log`), over either store (Postgres or
 * PGlite). Every change of the version in service is one transaction holding a per-commodity advisory lock:
 * status flips, service period closed and opened, audit row, or none of them.
 */
import {
  RegistryError,
  type Actor,
  type ModelChange,
  type ModelStatus,
  type ModelStore,
  type ModelSummary,
  type NewModel,
  type PromoteBy,
  type ServicePeriod,
  type StoredModel,
} from './registry.ts';
import type { SqlQuery, SqlStore } from '../../connectors/postgres/sql-store.ts';

interface SummaryRow {
  version: number;
  commodity: string;
  family: string;
  status: ModelStatus;
  format: string;
  horizon_ticks: number;
  train_from_ms: number;
  train_to_ms: number;
  train_rows: number;
  trained_at_ms: number;
  size_bytes: number;
  params: unknown;
  metrics: unknown;
}

const summaryColumns = `version, commodity, family, status, format, horizon_ticks, train_from_ms, train_to_ms, train_rows,
  floor(extract(epoch FROM trained_at) * 1000)::bigint AS trained_at_ms, octet_length(model) AS size_bytes, params, metrics`;

function toSummary(r: SummaryRow): ModelSummary {
  return {
    version: Number(r.version),
    commodity: r.commodity,
    family: r.family,
    status: r.status,
    format: r.format,
    horizonTicks: Number(r.horizon_ticks),
    trainFromMs: Number(r.train_from_ms),
    trainToMs: Number(r.train_to_ms),
    trainRows: Number(r.train_rows),
    trainedAtMs: Number(r.trained_at_ms),
    sizeBytes: Number(r.size_bytes),
    params: r.params,
    metrics: r.metrics,
  };
}

function toStored(r: SummaryRow & { model: Uint8Array }): StoredModel {
  return { ...toSummary(r), blob: r.model };
}

/** Serializes the changes of one commodity (two trainers, or a trainer and an operator, at once). */
async function lockCommodity(tx: SqlQuery, commodity: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`carbon.models.${commodity}`]);
}

async function activeVersion(tx: SqlQuery, commodity: string, horizonTicks: number): Promise<number | null> {
  const { rows } = await tx.query<{ version: number }>(`SELECT version FROM models WHERE commodity = $1 AND horizon_ticks = $2 AND status = 'active'`, [commodity, horizonTicks]);
  return rows[0] === undefined ? null : Number(rows[0].version);
}

/** The model's commodity, horizon, family and status, after taking its commodity's lock. */
async function lockedModel(tx: SqlQuery, version: number): Promise<{ commodity: string; horizon: number; family: string; status: ModelStatus }> {
  const first = await tx.query<{ commodity: string }>('SELECT commodity FROM models WHERE version = $1', [version]);
  const commodity = first.rows[0]?.commodity;
  if (commodity === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
  await lockCommodity(tx, commodity);
  const { rows } = await tx.query<{ horizon_ticks: number; family: string; status: ModelStatus }>('SELECT horizon_ticks, family, status FROM models WHERE version = $1', [version]);
  const row = rows[0]!;
  return { commodity, horizon: Number(row.horizon_ticks), family: row.family, status: row.status };
}

/**
 * Closes the open service period and opens one for `version`, both at the time read here, after the lock
 * (now() is the transaction's start, which a transaction that waited for the lock would place out of order).
 * Returns that time in ms.
 */
async function switchService(tx: SqlQuery, commodity: string, horizon: number, version: number, reason: string): Promise<number> {
  const { rows } = await tx.query<{ at: string; ms: number }>(
    'SELECT at::text AS at, floor(extract(epoch FROM at) * 1000)::bigint AS ms FROM (SELECT clock_timestamp() AS at) t',
  );
  const { at, ms } = rows[0]!;
  await tx.query('UPDATE model_service SET to_at = $3::timestamptz WHERE commodity = $1 AND horizon_ticks = $2 AND to_at IS NULL', [commodity, horizon, at]);
  await tx.query('INSERT INTO model_service (commodity, horizon_ticks, model_version, from_at, reason) VALUES ($1, $2, $3, $4::timestamptz, $5)', [
    commodity,
    horizon,
    version,
    at,
    reason,
  ]);
  return Number(ms);
}

async function audit(tx: SqlQuery, actor: string, action: string, subject: string, details: object): Promise<void> {
  await tx.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4::jsonb)', [
    actor,
    action,
    subject,
    JSON.stringify(details),
  ]);
}

export function sqlModelStore(sql: SqlStore): ModelStore {
  return {
    async insertCandidate(m: NewModel): Promise<number> {
      const { rows } = await sql.query<{ version: number }>(
        `INSERT INTO models (commodity, family, status, params, metrics, format, model, horizon_ticks, train_from_ms, train_to_ms, train_rows)
         VALUES ($1, $2, 'candidate', $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9, $10) RETURNING version`,
        [m.commodity, m.family, JSON.stringify(m.params), JSON.stringify(m.metrics), m.format, m.blob, m.horizonTicks, m.trainFromMs, m.trainToMs, m.trainRows],
      );
      return Number(rows[0]!.version);
    },

    async reject(version, by) {
      await sql.transaction(async (tx) => {
        const { rows } = await tx.query<{ commodity: string; status: ModelStatus }>('SELECT commodity, status FROM models WHERE version = $1 FOR UPDATE', [version]);
        const row = rows[0];
        if (row === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
        if (row.status !== 'candidate') throw new RegistryError('MODEL_NOT_CANDIDATE', `model v${version} is ${row.status}, not a candidate`);
        await tx.query(`UPDATE models SET status = 'rejected' WHERE version = $1`, [version]);
        await audit(tx, by.actor, 'model.reject', row.commodity, { version, reason: by.reason, reasons: by.reasons });
      });
    },

    async shadow(version, by) {
      await sql.transaction(async (tx) => {
        const m = await lockedModel(tx, version);
        if (m.status !== 'candidate') throw new RegistryError('MODEL_NOT_CANDIDATE', `model v${version} is ${m.status}, not a candidate`);
        const { rows } = await tx.query<{ version: number }>(
          `UPDATE models SET status = 'retired' WHERE commodity = $1 AND horizon_ticks = $2 AND family = $3 AND status = 'shadow' RETURNING version`,
          [m.commodity, m.horizon, m.family],
        );
        await tx.query(`UPDATE models SET status = 'shadow' WHERE version = $1`, [version]);
        await audit(tx, by.actor, 'model.shadow', m.commodity, { version, horizonTicks: m.horizon, family: m.family, replaces: rows.map((r) => Number(r.version)), reason: by.reason, ...by.evidence });
      });
    },

    promote(version, by: PromoteBy) {
      return sql.transaction(async (tx): Promise<ModelChange> => {
        const m = await lockedModel(tx, version);
        if (m.status === 'active') throw new RegistryError('MODEL_ALREADY_ACTIVE', `model v${version} is already in service for ${m.commodity} (${m.horizon} tick(s))`);
        const previous = await activeVersion(tx, m.commodity, m.horizon);
        if (by.expectedActiveVersion !== undefined && by.expectedActiveVersion !== previous) {
          throw new RegistryError(
            'ACTIVE_MODEL_CHANGED',
            `${m.commodity} (${m.horizon} tick(s)): expected v${by.expectedActiveVersion ?? 'none'} in service, found v${previous ?? 'none'}; decide again`,
          );
        }
        // One challenger per family: an older one of this version's family steps down.
        await tx.query(
          `UPDATE models SET status = 'retired' WHERE commodity = $1 AND horizon_ticks = $2 AND family = $3 AND status = 'shadow' AND version <> $4`,
          [m.commodity, m.horizon, m.family, version],
        );
        if (previous !== null) {
          // The champion replaced by a challenger becomes one, unless its family already has a newer challenger.
          const { rows } = await tx.query<{ taken: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM models s JOIN models p ON p.version = $1
               WHERE s.commodity = p.commodity AND s.horizon_ticks = p.horizon_ticks AND s.family = p.family AND s.status = 'shadow') AS taken`,
            [previous],
          );
          const becomes = by.previousBecomes === 'shadow' && !rows[0]!.taken ? 'shadow' : 'retired';
          await tx.query('UPDATE models SET status = $2 WHERE version = $1', [previous, becomes]);
        }
        await tx.query(`UPDATE models SET status = 'active' WHERE version = $1`, [version]);
        const changedAtMs = await switchService(tx, m.commodity, m.horizon, version, `promote: ${by.reason}`);
        await audit(tx, by.actor, 'model.promote', m.commodity, {
          version,
          horizonTicks: m.horizon,
          family: m.family,
          previousVersion: previous,
          fromStatus: m.status,
          reason: by.reason,
          ...by.evidence,
        });
        return { action: 'promote', commodity: m.commodity, horizonTicks: m.horizon, version, previousVersion: previous, changedAtMs };
      });
    },

    rollback(commodity, horizon, by: Actor) {
      return sql.transaction(async (tx): Promise<ModelChange> => {
        await lockCommodity(tx, commodity);
        const current = await activeVersion(tx, commodity, horizon);
        if (current === null) throw new RegistryError('NO_ACTIVE_MODEL', `${commodity} has no model in service for ${horizon} tick(s) to roll back`);
        // The latest version that served before and was retired in the normal way (not itself rolled back).
        const { rows } = await tx.query<{ model_version: number }>(
          `SELECT s.model_version FROM model_service s JOIN models m ON m.version = s.model_version
           WHERE s.commodity = $1 AND s.horizon_ticks = $2 AND s.model_version <> $3 AND m.status IN ('retired', 'shadow')
           ORDER BY s.from_at DESC LIMIT 1`,
          [commodity, horizon, current],
        );
        const target = rows[0] === undefined ? undefined : Number(rows[0].model_version);
        if (target === undefined) {
          throw new RegistryError('NO_PREVIOUS_VERSION', `${commodity} (${horizon} tick(s)): no earlier version served before v${current}; nothing to roll back to`);
        }
        const { rows: targetRows } = await tx.query<{ family: string }>('SELECT family FROM models WHERE version = $1', [target]);
        await tx.query(`UPDATE models SET status = 'rejected' WHERE version = $1`, [current]);
        await tx.query(`UPDATE models SET status = 'retired' WHERE commodity = $1 AND horizon_ticks = $2 AND family = $3 AND status = 'shadow'`, [
          commodity,
          horizon,
          targetRows[0]!.family,
        ]);
        await tx.query(`UPDATE models SET status = 'active' WHERE version = $1`, [target]);
        const changedAtMs = await switchService(tx, commodity, horizon, target, `rollback from v${current}: ${by.reason}`);
        await audit(tx, by.actor, 'model.rollback', commodity, { version: target, horizonTicks: horizon, rolledBackVersion: current, reason: by.reason });
        return { action: 'rollback', commodity, horizonTicks: horizon, version: target, previousVersion: current, changedAtMs };
      });
    },

    async list(filter = {}) {
      const limit = filter.limit ?? 100;
      const { rows } = filter.commodity === undefined
        ? await sql.query<SummaryRow>(`SELECT ${summaryColumns} FROM models ORDER BY version DESC LIMIT $1`, [limit])
        : await sql.query<SummaryRow>(`SELECT ${summaryColumns} FROM models WHERE commodity = $1 ORDER BY version DESC LIMIT $2`, [filter.commodity, limit]);
      return rows.map(toSummary);
    },

    async get(version) {
      const { rows } = await sql.query<SummaryRow & { model: Uint8Array }>(`SELECT ${summaryColumns}, model FROM models WHERE version = $1`, [version]);
      return rows[0] === undefined ? undefined : toStored(rows[0]);
    },

    async serving(commodity) {
      const { rows } = await sql.query<SummaryRow & { model: Uint8Array }>(
        `SELECT ${summaryColumns}, model FROM models WHERE commodity = $1 AND status IN ('active', 'shadow') ORDER BY horizon_ticks, version`,
        [commodity],
      );
      return rows.map(toStored);
    },

    async serviceHistory(commodity): Promise<ServicePeriod[]> {
      const { rows } = await sql.query<{ commodity: string; horizon_ticks: number; model_version: number; from_ms: number; to_ms: number | null; reason: string }>(
        `SELECT commodity, horizon_ticks, model_version, floor(extract(epoch FROM from_at) * 1000)::bigint AS from_ms,
                floor(extract(epoch FROM to_at) * 1000)::bigint AS to_ms, reason
         FROM model_service WHERE commodity = $1 ORDER BY from_at, horizon_ticks`,
        [commodity],
      );
      return rows.map((r) => ({
        commodity: r.commodity,
        horizonTicks: Number(r.horizon_ticks),
        modelVersion: Number(r.model_version),
        fromMs: Number(r.from_ms),
        toMs: r.to_ms === null ? null : Number(r.to_ms),
        reason: r.reason,
      }));
    },
  };
}
