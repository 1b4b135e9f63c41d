import test from 'ava';
import { csvTableRows } from './csv-table.ts';
import { jsonArrayElements } from './json-elements.ts';
import { splitCsvLine, splitLines, type Line } from './lines.ts';

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('lines split across chunks of any size, CRLF and a missing final newline included', async (t) => {
  const text = 'Date,Price\r\n2020-04-20,-36.98\n\n2020-04-21,€8.91';
  for (const size of [1, 2, 3, 7, 1024]) {
    const lines = await collect(splitLines(chunksOf(text, size), 1024));
    t.deepEqual(lines.map((l) => l.text), ['Date,Price', '2020-04-20,-36.98', '', '2020-04-21,€8.91'], `chunk ${size}`);
    t.deepEqual(lines.map((l) => l.lineNo), [1, 2, 3, 4]);
    t.is(lines[3]?.sizeBytes, Buffer.byteLength('2020-04-21,€8.91'));
  }
});

test('a line longer than the kept bytes keeps its beginning and its full size', async (t) => {
  const long = 'x'.repeat(10_000);
  const lines = await collect(splitLines(chunksOf(`a\n${long}\nb\n`, 333), 100));
  t.deepEqual(lines.map((l) => [l.text.length, l.sizeBytes, l.truncated]), [[1, 1, false], [100, 10_000, true], [1, 1, false]]);
});

test('CSV fields honour quotes', (t) => {
  t.deepEqual(splitCsvLine('a,b,,c'), ['a', 'b', '', 'c']);
  t.deepEqual(splitCsvLine('2020-01-01,"1,5","say ""hi"""'), ['2020-01-01', '1,5', 'say "hi"']);
});

async function tableOf(text: string, fileName = 'wti-daily.csv', commodity?: string) {
  const counter = { absent: 0 };
  const lines: AsyncIterable<Line> = splitLines(chunksOf(text, 5), 64 * 1024);
  const rows = await collect(csvTableRows(lines, { origin: `csv:${fileName}`, where: fileName, commodity, fileName }, counter));
  return { rows, absent: counter.absent };
}

test('one-series tables take the commodity from the option, else the file name', async (t) => {
  const { rows } = await tableOf('\uFEFFDate,Price\n2020-04-20,-36.98\n');
  t.like(rows[0], { commodityHint: 'WTI', date: '2020-04-20', price: '-36.98', raw: '2020-04-20,-36.98', lineNo: 2, origin: 'csv:wti-daily.csv' });
  t.is((await tableOf('Date,Price\n2020-04-20,1\n', 'prices.csv', 'BRENT')).rows[0]?.commodityHint, 'BRENT');
});

test('wide tables: one row per non-empty cell named by its column; empty cells are absent; bad widths are one row', async (t) => {
  const { rows, absent } = await tableOf('Date,Crude Oil petroleum,Aluminum\n1990-01-01,,1528.0\n1990-02-01,20.1,1454\n1990-03-01,1,2,3\n', 'imf.csv');
  t.deepEqual(rows.map((r) => [r.commodityHint, r.date, r.price, r.column]), [
    ['ALUMINUM', '1990-01-01', '1528.0', 'Aluminum'],
    ['CRUDE_OIL_PETROLEUM', '1990-02-01', '20.1', 'Crude Oil petroleum'],
    ['ALUMINUM', '1990-02-01', '1454', 'Aluminum'],
    [undefined, '1990-03-01', '', undefined],
  ]);
  t.deepEqual(rows[3]?.cells, { found: 4, expected: 3 });
  t.is(absent, 1);
});

test('wide tables refuse --commodity and columns that map to the same id', async (t) => {
  await t.throwsAsync(tableOf('Date,A,B\n2020-01-01,1,2\n', 'x.csv', 'WTI'), { message: /--commodity names one series/ });
  await t.throwsAsync(tableOf('Date,Swine - pork,Swine pork\n', 'x.csv'), { message: /both map to commodity SWINE_PORK/ });
  await t.throwsAsync(tableOf('Price\n1\n', 'x.csv'), { message: /header with a Date column/ });
  await t.throwsAsync(tableOf('', 'x.csv'), { message: /no header line/ });
});

test('long tables name the commodity per row, falling back to the file name', async (t) => {
  const { rows } = await tableOf('commodity,date,price\nbrent,2020-04-20,19.33\n,2020-04-21,8.91\n', 'wti.csv');
  t.deepEqual(rows.map((r) => r.commodityHint), ['brent', 'WTI']);
});

test('JSON array elements are cut at top-level commas, whatever the chunking and the strings hold', async (t) => {
  const text = ' [ {"date":"2020-01-01","price":1,"note":"a,]}\\"[{"} , [1,2], "x" ,{"nested":{"a":[1,{"b":2}]}} ]\n';
  for (const size of [1, 3, 8, 1024]) {
    const elements = await collect(jsonArrayElements(chunksOf(text, size), 1024, 'test'));
    t.deepEqual(elements.map((e) => e.text), ['{"date":"2020-01-01","price":1,"note":"a,]}\\"[{"}', '[1,2]', '"x"', '{"nested":{"a":[1,{"b":2}]}}'], `chunk ${size}`);
    for (const e of elements) t.notThrows(() => JSON.parse(e.text));
  }
  t.deepEqual(await collect(jsonArrayElements(chunksOf('[]', 1), 10, 'test')), []);
  await t.throwsAsync(collect(jsonArrayElements(chunksOf('{"a":1}', 4), 10, 'test')), { message: /not an array/ });
  await t.throwsAsync(collect(jsonArrayElements(chunksOf('[{"a":1},', 4), 10, 'test')), { message: /not closed/ });
});
