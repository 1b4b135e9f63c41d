/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose default export returns the result record;
 * the record is printed as the last output line, as JSON, so that scripts can take it with `tail -1`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BenchResult = { bench: string } & Record<string, number | string | boolean | null>;
export type Bench = (args: string[]) => Promise<BenchResult>;

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|')}> [args]\n`);
  process.exit(name && name !== '--help' && name !== '-h' ? 2 : 0);
}
const mod = (await import(`./${name}.ts`)) as { default: Bench };
const result = await mod.default(args);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
