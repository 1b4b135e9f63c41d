/**
 * The model registry's SQL (tables `models`, `model_service`, `audit_log` of 001_init.sql), over either store
 * (Postgres or PGlite). Every change of the version in service is one transaction holding a per-commodity
 * advisory lock: status flip, service period closed and opened, audit row, or none of them.
 */
import {
  RegistryError,
  type Actor,
  type ModelChange,
  type ModelStatus,
  type ModelStore,
  type ModelSummary,
  type NewModel,
  type ServicePeriod,
  type StoredModel,
} from '../../actors/model/registry.ts';
import type { SqlQuery, SqlStore } from './sql-store.ts';

interface SummaryRow {
  version: number;
  commodity: string;
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

const summaryColumns = `version, commodity, status, format, horizon_ticks, train_from_ms, train_to_ms, train_rows,
  floor(extract(epoch FROM trained_at) * 1000)::bigint AS trained_at_ms, octet_length(model) AS size_bytes, params, metrics`;

function toSummary(r: SummaryRow): ModelSummary {
  return {
    version: Number(r.version),
    commodity: r.commodity,
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

async function activeVersion(tx: SqlQuery, commodity: string): Promise<number | null> {
  const { rows } = await tx.query<{ version: number }>(`SELECT version FROM models WHERE commodity = $1 AND status = 'active'`, [commodity]);
  return rows[0] === undefined ? null : Number(rows[0].version);
}

/**
 * Closes the open service period and opens one for `version`, both at the time read here, after the lock
 * (now() is the transaction's start, which a transaction that waited for the lock would place out of order).
 * Returns that time in ms.
 */
async function switchService(tx: SqlQuery, commodity: string, version: number, reason: string): Promise<number> {
  const { rows } = await tx.query<{ at: string; ms: number }>(
    'SELECT at::text AS at, floor(extract(epoch FROM at) * 1000)::bigint AS ms FROM (SELECT clock_timestamp() AS at) t',
  );
  const { at, ms } = rows[0]!;
  await tx.query('UPDATE model_service SET to_at = $2::timestamptz WHERE commodity = $1 AND to_at IS NULL', [commodity, at]);
  await tx.query('INSERT INTO model_service (commodity, model_version, from_at, reason) VALUES ($1, $2, $3::timestamptz, $4)', [commodity, version, at, reason]);
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
        `INSERT INTO models (commodity, status, params, metrics, format, model, horizon_ticks, train_from_ms, train_to_ms, train_rows)
         VALUES ($1, 'candidate', $2::jsonb, $3::jsonb, $4, $5, $6, $7, $8, $9) RETURNING version`,
        [m.commodity, JSON.stringify(m.params), JSON.stringify(m.metrics), m.format, m.blob, m.horizonTicks, m.trainFromMs, m.trainToMs, m.trainRows],
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

    promote(version, by) {
      return sql.transaction(async (tx): Promise<ModelChange> => {
        const first = await tx.query<{ commodity: string }>('SELECT commodity FROM models WHERE version = $1', [version]);
        const commodity = first.rows[0]?.commodity;
        if (commodity === undefined) throw new RegistryError('MODEL_NOT_FOUND', `no model v${version} in the registry`);
        await lockCommodity(tx, commodity);
        const { rows } = await tx.query<{ status: ModelStatus }>('SELECT status FROM models WHERE version = $1', [version]);
        const fromStatus = rows[0]!.status;
        if (fromStatus === 'active') throw new RegistryError('MODEL_ALREADY_ACTIVE', `model v${version} is already in service for ${commodity}`);
        const previous = await activeVersion(tx, commodity);
        if (by.expectedActiveVersion !== undefined && by.expectedActiveVersion !== previous) {
          throw new RegistryError(
            'ACTIVE_MODEL_CHANGED',
            `${commodity}: expected v${by.expectedActiveVersion ?? 'none'} in service, found v${previous ?? 'none'}; decide again`,
          );
        }
        if (previous !== null) await tx.query(`UPDATE models SET status = 'retired' WHERE version = $1`, [previous]);
        await tx.query(`UPDATE models SET status = 'active' WHERE version = $1`, [version]);
        const changedAtMs = await switchService(tx, commodity, version, `promote: ${by.reason}`);
        await audit(tx, by.actor, 'model.promote', commodity, { version, previousVersion: previous, fromStatus, reason: by.reason });
        return { action: 'promote', commodity, version, previousVersion: previous, changedAtMs };
      });
    },

    rollback(commodity, by: Actor) {
      return sql.transaction(async (tx): Promise<ModelChange> => {
        await lockCommodity(tx, commodity);
        const current = await activeVersion(tx, commodity);
        if (current === null) throw new RegistryError('NO_ACTIVE_MODEL', `${commodity} has no model in service to roll back`);
        // The latest version that served before and was retired in the normal way (not itself rolled back).
        const { rows } = await tx.query<{ model_version: number }>(
          `SELECT s.model_version FROM model_service s JOIN models m ON m.version = s.model_version
           WHERE s.commodity = $1 AND s.model_version <> $2 AND m.status = 'retired'
           ORDER BY s.from_at DESC LIMIT 1`,
          [commodity, current],
        );
        const target = rows[0] === undefined ? undefined : Number(rows[0].model_version);
        if (target === undefined) {
          throw new RegistryError('NO_PREVIOUS_VERSION', `${commodity}: no earlier version served before v${current}; nothing to roll back to`);
        }
        await tx.query(`UPDATE models SET status = 'rejected' WHERE version = $1`, [current]);
        await tx.query(`UPDATE models SET status = 'active' WHERE version = $1`, [target]);
        const changedAtMs = await switchService(tx, commodity, target, `rollback from v${current}: ${by.reason}`);
        await audit(tx, by.actor, 'model.rollback', commodity, { version: target, rolledBackVersion: current, reason: by.reason });
        return { action: 'rollback', commodity, version: target, previousVersion: current, changedAtMs };
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

    async getActive(commodity) {
      const { rows } = await sql.query<SummaryRow & { model: Uint8Array }>(
        `SELECT ${summaryColumns}, model FROM models WHERE commodity = $1 AND status = 'active'`,
        [commodity],
      );
      return rows[0] === undefined ? undefined : toStored(rows[0]);
    },

    async serviceHistory(commodity): Promise<ServicePeriod[]> {
      const { rows } = await sql.query<{ commodity: string; model_version: number; from_ms: number; to_ms: number | null; reason: string }>(
        `SELECT commodity, model_version, floor(extract(epoch FROM from_at) * 1000)::bigint AS from_ms,
                floor(extract(epoch FROM to_at) * 1000)::bigint AS to_ms, reason
         FROM model_service WHERE commodity = $1 ORDER BY from_at`,
        [commodity],
      );
      return rows.map((r) => ({
        commodity: r.commodity,
        modelVersion: Number(r.model_version),
        fromMs: Number(r.from_ms),
        toMs: r.to_ms === null ? null : Number(r.to_ms),
        reason: r.reason,
      }));
    },
  };
}
