import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readElsewhere, variablesReadBy } from '../deploy/tools/env-variables.ts';

const root = join(import.meta.dirname, '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');
/** The variable of each table row (its first cell). */
const documented = new Set([...read('docs/operations/configuration.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1] as string));
/** Set by the primary for its workers, not by operators. */
const internal = new Set(['CARBON_WORKER_SLOT']);

test('the configuration reference names every variable the platform reads', (t) => {
  const platform = [...variablesReadBy(read('platform/config.ts')), ...readElsewhere.keys()].filter((v) => !internal.has(v));
  t.deepEqual([...new Set(platform)].filter((v) => !documented.has(v)).sort(), []);
});

test('the configuration reference names only variables that some code reads', (t) => {
  const known = new Set([...variablesReadBy(read('platform/config.ts')), ...variablesReadBy(read('gateway/gateway-config.ts')), ...readElsewhere.keys()]);
  t.true(documented.size > 20, `the table rows were found (${documented.size})`);
  t.deepEqual([...documented].filter((v) => !known.has(v)).sort(), []);
});
