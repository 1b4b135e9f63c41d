import test from 'ava';
import type { RawRow } from './raw-row.ts';
import { describeTableMismatch, EXAMPLES_PER_REASON, RejectReporter } from './reject-report.ts';

function row(file: string, lineNo: number, extra: Partial<RawRow> = {}): RawRow {
  return { commodityHint: 'WTI', date: '2020-04-20', price: '1', raw: 'x', file, lineNo, origin: `csv:${file}`, ...extra };
}

test('examples: the first few of each reason, located, in the order met', (t) => {
  const r = new RejectReporter();
  for (let line = 2; line < 10; line++) {
    const bad = row('data/wti-daily.csv', line, { price: '' });
    r.read(bad);
    r.rejected(bad, 'empty_price', '', 'price is empty');
  }
  const wide = row('imf.csv', 3, { column: 'Zinc' });
  r.read(wide);
  r.rejected(wide, 'non_finite_price', 'abc', 'price "abc" is not a finite number');
  const { examples } = r.report();
  t.is(examples.filter((e) => e.reason === 'empty_price').length, EXAMPLES_PER_REASON);
  t.deepEqual(examples[0], { reason: 'empty_price', file: 'data/wti-daily.csv', line: 2, value: '', detail: 'price is empty' });
  t.deepEqual(examples.at(-1), { reason: 'non_finite_price', file: 'imf.csv', line: 3, column: 'Zinc', value: 'abc', detail: 'price "abc" is not a finite number' });
});

test('a table whose every line disagrees with its header is one finding, with the counts', (t) => {
  const r = new RejectReporter();
  for (let line = 2; line <= 421; line++) r.read(row('imf.csv', line, { cells: { found: 95, expected: 64 } }));
  // A good file read after it, with several rows per line (a wide file), is no finding.
  for (let line = 2; line <= 5; line++) for (let cell = 0; cell < 3; cell++) r.read(row('wide.csv', line));
  const [mismatch, ...others] = r.report().tableMismatches;
  t.deepEqual(others, []);
  t.deepEqual(mismatch, { file: 'imf.csv', headerCells: 64, lines: 420, mismatchedLines: 420, cellCounts: [95] });
  t.regex(describeTableMismatch(mismatch!), /^imf\.csv: its header names 64 columns, but all 420 of its lines have 95 cells: none of it can be read/);
});

test('a table with a few bad lines says how many of how many', (t) => {
  const r = new RejectReporter();
  for (let line = 2; line <= 11; line++) r.read(row('prices.csv', line, line === 5 ? { cells: { found: 4, expected: 3 } } : {}));
  const [mismatch] = r.report().tableMismatches;
  t.like(mismatch, { lines: 10, mismatchedLines: 1, cellCounts: [4] });
  t.regex(describeTableMismatch(mismatch!), /1 of its 10 lines has 4 cells: that line cannot be read/);
});
