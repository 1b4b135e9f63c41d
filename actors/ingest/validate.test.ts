import test from 'ava';
import type { RawRow } from './raw-row.ts';
import { DuplicateTracker, parseDateMs, validateRow, validationContext, type RowVerdict } from './validate.ts';

const nowMs = Date.UTC(2025, 0, 15);

function row(partial: Partial<RawRow>): RawRow {
  return { commodityHint: 'WTI', date: '2020-04-20', price: '-36.98', raw: 'x', file: 'data/wti-daily.csv', lineNo: 1, origin: 'csv:wti-daily.csv', ...partial };
}

function reasonOf(v: RowVerdict): string {
  if (v.ok) return 'ok';
  return v.filtered ? 'filtered' : v.reason;
}

test('dates: days and months are 00:00 UTC, instants need a zone, impossible days are rejected', (t) => {
  t.is(parseDateMs('2020-04-20'), Date.UTC(2020, 3, 20));
  t.is(parseDateMs('1833-01'), Date.UTC(1833, 0, 1));
  t.is(parseDateMs('2024-01-02T10:30:00Z'), Date.UTC(2024, 0, 2, 10, 30));
  t.is(parseDateMs('2024-01-02T10:30:00+02:00'), Date.UTC(2024, 0, 2, 8, 30));
  t.is(parseDateMs('0050-06-01'), new Date('0050-06-01T00:00:00Z').getTime());
  t.is(parseDateMs(1_700_000_000_000), 1_700_000_000_000);
  for (const bad of ['2023-02-30', '2024-13-01', '2024-1-1', '20240101', '2024-01-02T10:30:00', 'yesterday', '', '01/02/2024', 'NaN']) {
    t.is(parseDateMs(bad), undefined, bad);
  }
  t.is(parseDateMs(Number.NaN), undefined);
  t.is(parseDateMs(1e20), undefined);
});

test('a negative price is a tick, with the default unit and the source as origin', (t) => {
  const v = validateRow(row({}), validationContext({ nowMs }));
  t.deepEqual(v, {
    ok: true,
    tick: { commodity: 'WTI', tsMs: Date.UTC(2020, 3, 20), price: -36.98, unit: 'USD/barrel', source: 'csv:wti-daily.csv' },
  });
});

test('each kind of bad row gets its reason', (t) => {
  const ctx = validationContext({ nowMs });
  const cases: Array<[Partial<RawRow>, string]> = [
    [{ date: '2020-02-30' }, 'unparseable_date'],
    [{ date: 'n/a' }, 'unparseable_date'],
    [{ price: '' }, 'empty_price'],
    [{ price: '   ' }, 'empty_price'],
    [{ price: 'NaN' }, 'non_finite_price'],
    [{ price: 'Infinity' }, 'non_finite_price'],
    [{ price: '1e999' }, 'non_finite_price'],
    [{ price: '12,5' }, 'non_finite_price'],
    [{ price: '0x10' }, 'non_finite_price'],
    [{ price: Number.NaN }, 'non_finite_price'],
    [{ date: '2025-01-17' }, 'future_timestamp'],
    [{ commodityHint: 'W$TI' }, 'malformed_commodity'],
    [{ commodityHint: '' }, 'malformed_commodity'],
    [{ commodityHint: undefined }, 'malformed_commodity'],
    [{ commodityHint: 'A'.repeat(33) }, 'malformed_commodity'],
    [{ raw: 'y'.repeat(5000) }, 'oversized_row'],
    [{ raw: 'y', rawSizeBytes: 10_000_000 }, 'oversized_row'],
    [{ cells: { found: 95, expected: 64 } }, 'column_count_mismatch'],
    [{ cells: { found: 1, expected: 2 } }, 'column_count_mismatch'],
  ];
  for (const [partial, reason] of cases) t.is(reasonOf(validateRow(row(partial), ctx)), reason, JSON.stringify(partial).slice(0, 80));
});

test('a rejection names the offending value as read', (t) => {
  const ctx = validationContext({ nowMs });
  const cases: Array<[Partial<RawRow>, string]> = [
    [{ date: '2023-02-30' }, '2023-02-30'],
    [{ price: 'n/a' }, 'n/a'],
    [{ price: '' }, ''],
    [{ commodityHint: 'W$TI' }, 'W$TI'],
    [{ date: '2025-01-17' }, '2025-01-17'],
    [{ cells: { found: 95, expected: 64 } }, '95 cells'],
    [{ raw: 'y', rawSizeBytes: 10_000 }, '10000 bytes'],
    [{ price: 'x'.repeat(100) }, 'x'.repeat(64)],
  ];
  for (const [partial, value] of cases) t.like(validateRow(row(partial), ctx), { ok: false, value }, JSON.stringify(partial).slice(0, 80));
});

test('the epoch is a date like any other: gold of 1970-01 is a tick at 0 ms', (t) => {
  t.like(validateRow(row({ commodityHint: 'GOLD', date: '1970-01', price: '34.94' }), validationContext({ nowMs })), { ok: true, tick: { commodity: 'GOLD', tsMs: 0 } });
});

test('a timestamp up to a day ahead is accepted, beyond it is rejected', (t) => {
  const ctx = validationContext({ nowMs });
  t.is(reasonOf(validateRow(row({ date: '2025-01-16' }), ctx)), 'ok');
  t.is(reasonOf(validateRow(row({ date: '2025-01-16T00:00:01Z' }), ctx)), 'future_timestamp');
});

test('the first of two rows with the same commodity and time wins; other commodities are independent', (t) => {
  const ctx = validationContext({ nowMs });
  t.is(reasonOf(validateRow(row({ price: '1' }), ctx)), 'ok');
  t.is(reasonOf(validateRow(row({ price: '2' }), ctx)), 'duplicate');
  t.is(reasonOf(validateRow(row({ commodityHint: 'BRENT' }), ctx)), 'ok');
  t.is(reasonOf(validateRow(row({ date: '2020-04-20T00:00:00Z' }), ctx)), 'duplicate');
});

test('rows outside --from/--to are filtered before their price is judged and claim no timestamp', (t) => {
  const ctx = validationContext({ nowMs, fromMs: Date.UTC(2020, 0, 1), toMs: Date.UTC(2020, 11, 31) });
  t.is(reasonOf(validateRow(row({ date: '2019-12-31', price: '' }), ctx)), 'filtered');
  t.is(reasonOf(validateRow(row({ date: '2021-01-01' }), ctx)), 'filtered');
  t.is(reasonOf(validateRow(row({ date: '2020-12-31' }), ctx)), 'ok');
  t.is(reasonOf(validateRow(row({ date: '2020-01-01' }), ctx)), 'ok');
});

test('a --unit overrides the known defaults; unknown commodities have an empty unit', (t) => {
  const withUnit = validateRow(row({}), validationContext({ nowMs, unit: 'USD/bbl' }));
  t.true(withUnit.ok && withUnit.tick.unit === 'USD/bbl');
  const unknown = validateRow(row({ commodityHint: 'ZINC' }), validationContext({ nowMs }));
  t.true(unknown.ok && unknown.tick.unit === '');
});

test('the duplicate tracker agrees with a plain set on shuffled input', (t) => {
  const tracker = new DuplicateTracker();
  const reference = new Set<string>();
  let seed = 7;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < 5_000; i++) {
    const commodity = `C${next() % 3}`;
    const ts = i % 10 === 0 ? next() % 400 : i;
    const key = `${commodity}@${ts}`;
    t.is(tracker.add(commodity, ts), !reference.has(key));
    reference.add(key);
  }
});

test('a price of -0 is the tick 0, as it reads back from the wire (found by fuzzing: -0 was published as +0)', (t) => {
  for (const price of ['-0', '-0.0', -0]) {
    const v = validateRow(row({ price }), validationContext({ nowMs }));
    t.true(v.ok && Object.is(v.tick.price, 0), String(price));
  }
});

test('a run given the clock takes ticks that are ahead of its start but not of now (a live feed running for days)', (t) => {
  const startMs = Date.UTC(2025, 0, 1);
  let clockMs = startMs;
  const ctx = validationContext({ nowMs: startMs, clock: () => clockMs });
  const threeDaysOn = row({ date: '2025-01-04' });
  clockMs = startMs + 3 * 86_400_000;
  t.true(validateRow(threeDaysOn, ctx).ok);
  t.is(reasonOf(validateRow(row({ date: '2025-01-06' }), ctx)), 'future_timestamp', 'more than a day ahead of the clock still is');
  t.is(reasonOf(validateRow(threeDaysOn, validationContext({ nowMs: startMs }))), 'future_timestamp', 'without the clock, nowMs decides');
});
