import test from 'ava';
import { boolArray, numberArray, textArray } from './array-literals.ts';

test('number arrays keep every digit JavaScript prints and write NULL for missing values', (t) => {
  t.is(numberArray([1.5, null, undefined, -36.98, 1e-7, 1_587_340_800_000, 0.1 + 0.2]), '{1.5,NULL,NULL,-36.98,1e-7,1587340800000,0.30000000000000004}');
  t.is(numberArray([]), '{}');
});

test('bool arrays use Postgres spelling', (t) => {
  t.is(boolArray([true, false]), '{t,f}');
});

test('text arrays quote every element and escape quotes and backslashes', (t) => {
  t.is(textArray(['WTI', 'a,b', 'say "hi"', 'back\\slash', '{x}', 'NULL']), '{"WTI","a,b","say \\"hi\\"","back\\\\slash","{x}","NULL"}');
});
