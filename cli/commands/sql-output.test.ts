import test from 'ava';
import { formatCsv, formatJsonLines, formatTable, type QueryOutput } from './sql-output.ts';

const result: QueryOutput = {
  columns: [
    { name: 'commodity', type: 'varchar' },
    { name: 'hit_rate', type: 'double' },
    { name: 'day', type: 'date' },
  ],
  rows: [
    ['WTI', 0.5125, '2024-03-01'],
    ['says "hi", twice', null, '2024-03-02'],
  ],
};

test('a table aligns its columns, numbers to the right, and counts its rows', (t) => {
  t.is(formatTable(result), [
    'commodity        | hit_rate | day',
    '-----------------+----------+-----------',
    'WTI              |   0.5125 | 2024-03-01',
    'says "hi", twice |     NULL | 2024-03-02',
    '(2 rows)',
    '',
  ].join('\n'));
  t.is(formatTable({ columns: [{ name: 'n', type: 'bigint' }], rows: [] }), 'n\n-\n(0 rows)\n');
});

test('CSV quotes what needs quoting, doubles quotes, and leaves NULL empty', (t) => {
  t.is(formatCsv(result), 'commodity,hit_rate,day\r\nWTI,0.5125,2024-03-01\r\n"says ""hi"", twice",,2024-03-02\r\n');
});

test('JSON lines key each row by column name, NULL as null, nested values as JSON', (t) => {
  const nested: QueryOutput = { columns: [{ name: 'a', type: 'array(integer)' }, { name: 'm', type: 'map(varchar, integer)' }], rows: [[[1, 2], { x: 1 }]] };
  t.is(formatJsonLines(result), '{"commodity":"WTI","hit_rate":0.5125,"day":"2024-03-01"}\n{"commodity":"says \\"hi\\", twice","hit_rate":null,"day":"2024-03-02"}\n');
  t.is(formatJsonLines(nested), '{"a":[1,2],"m":{"x":1}}\n');
  t.is(formatTable(nested).split('\n')[2], '[1,2] | {"x":1}');
});
