/**
 * `npm run bench -- <name> [options]`: runs bench/<name>.ts with its options (`npm run bench -- <name> --help`
 * lists them); the default export returns the result record, printed as the last output line, as JSON, so that
 * scripts can take it with `tail -1`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchUsage, parseBenchArgs, type BenchCommandLine } from './_options.ts';

export type BenchResult = { bench: string } & Record<string, number | string | boolean | null>;

type BenchModule = BenchCommandLine & { default: (values: Record<string, number | undefined>) => Promise<BenchResult> };

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !available.includes(name)) {
  const problem = name && name !== '--help' && name !== '-h' ? `unknown bench "${name}"\n` : '';
  process.stderr.write(`${problem}usage: npm run bench -- <${available.join('|')}> [options]\n       npm run bench -- <name> --help: its options\n`);
  process.exit(problem ? 2 : 0);
}
const mod = (await import(`./${name}.ts`)) as BenchModule;
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(benchUsage(name, mod));
  process.exit(0);
}
const parsed = parseBenchArgs(mod.options, args);
if ('error' in parsed) {
  process.stderr.write(`${parsed.error}\n\n${benchUsage(name, mod)}`);
  process.exit(2);
}
const result = await mod.default(parsed.values);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
