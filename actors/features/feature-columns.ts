/**
 * The stored form of a feature vector, declared once: each field of FeatureVector with its column in the
 * `features` table (and, by the same camel-case name, its field in carbon.v1.Features). The Postgres writer, the
 * feature-store reader and the wire conversion are derived from this list; a test checks the migrations and the
 * proto against it.
 */
import type { FeatureVector } from './compute-features.ts';

export interface FeatureColumn {
  readonly field: keyof FeatureVector;
  readonly column: string;
  readonly sqlType: 'float8' | 'bigint' | 'bool';
  /** May be undefined in a FeatureVector (NULL in the table, absent on the wire). */
  readonly optional: boolean;
}

const column = (field: keyof FeatureVector, name: string, sqlType: FeatureColumn['sqlType'], optional: boolean): FeatureColumn => ({
  field,
  column: name,
  sqlType,
  optional,
});

/** In table order; `commodity` (the key beside `ts_ms`) is not a field of the vector. */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = Object.freeze([
  column('tsMs', 'ts_ms', 'bigint', false),
  column('price', 'price', 'float8', false),
  column('simpleReturn', 'simple_return', 'float8', true),
  column('logReturn', 'log_return', 'float8', true),
  column('nonPositivePrice', 'non_positive_price', 'bool', false),
  column('sma5', 'sma_5', 'float8', true),
  column('sma20', 'sma_20', 'float8', true),
  column('ema5', 'ema_5', 'float8', false),
  column('ema20', 'ema_20', 'float8', false),
  column('volatility20', 'volatility_20', 'float8', true),
  column('ewmaVolatility', 'ewma_volatility', 'float8', true),
  column('zScore', 'z_score', 'float8', true),
  column('rsi14', 'rsi_14', 'float8', true),
  column('momentum10', 'momentum_10', 'float8', true),
  column('windowMin', 'window_min', 'float8', false),
  column('windowMax', 'window_max', 'float8', false),
  column('tickCount', 'tick_count', 'bigint', false),
]);

/** A row of `features` as the driver returns it (bigint may come as a string, NULL as null). */
export type FeatureRow = Readonly<Record<string, unknown>>;

/** The FeatureVector a stored row was written from. */
export function featureVectorFromRow(row: FeatureRow): FeatureVector {
  const vector: Record<string, number | boolean | undefined> = {};
  for (const c of FEATURE_COLUMNS) {
    const value = row[c.column];
    if (value === null || value === undefined) {
      if (!c.optional) throw new RangeError(`features row at ts_ms ${String(row.ts_ms)} has no ${c.column}`);
      vector[c.field] = undefined;
    } else {
      vector[c.field] = c.sqlType === 'bool' ? Boolean(value) : Number(value);
    }
  }
  return vector as unknown as FeatureVector;
}

/** The column values of a batch of vectors, one array per column in FEATURE_COLUMNS order. */
export function featureColumnArrays(vectors: readonly FeatureVector[]): (number | boolean | undefined)[][] {
  return FEATURE_COLUMNS.map((c) => vectors.map((v) => v[c.field]));
}
