/**
 * The Postgres writer, metered: once a batch is durable, each commodity is credited its ticks, the rows written
 * for them (the tick, its features, its predictions) and their bytes. The bytes are the rows' widths as Postgres
 * lays them out (a 24-byte tuple header, 8 bytes per number and timestamp, the text's length), an estimate of what
 * they hold on disk before indexes and compression.
 */
import type { OutputWriter, TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import type { UsageMeter } from '../../platform/usage-meter.ts';

const TUPLE_HEADER_BYTES = 24;
const NUMBER_BYTES = 8;
/** Numeric and timestamp columns of the rows of one tick (ticks: ts, price, stored_at; features: 17 with stored_at; a prediction: 15). */
const TICK_NUMBERS = 3;
const FEATURE_NUMBERS = 17;
const PREDICTION_NUMBERS = 15;

export function storedBytes(o: TickOutputs): number {
  const text = (v: string) => Buffer.byteLength(v) + 1;
  const commodity = text(o.tick.commodity);
  const tick = TUPLE_HEADER_BYTES + TICK_NUMBERS * NUMBER_BYTES + commodity + text(o.tick.unit) + text(o.tick.source);
  const features = TUPLE_HEADER_BYTES + FEATURE_NUMBERS * NUMBER_BYTES + commodity;
  const predictions = o.predictions.length * (TUPLE_HEADER_BYTES + PREDICTION_NUMBERS * NUMBER_BYTES + commodity);
  return tick + features + predictions;
}

export function meteredWriter(writer: OutputWriter, meter: UsageMeter): OutputWriter {
  return {
    name: writer.name,
    concurrent: writer.concurrent,
    async write(batch) {
      await writer.write(batch);
      for (const o of batch) meter.commodity(o.tick.commodity, { ticks: 1, rowsStored: 2 + o.predictions.length, bytesStored: storedBytes(o) });
    },
  };
}
