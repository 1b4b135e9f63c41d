/**
 * A bench's command line: numeric options, each with a default and a line of help. `--help` lists them; an
 * unknown option, a missing value or a value out of range fails before anything starts, so that a typo does not
 * run a bench of minutes with the defaults. node:util's parseArgs reads the command line; what is written here is
 * only the numbers and the help text, which it does not do.
 */
import { parseArgs } from 'node:util';

export interface NumberOption {
  readonly help: string;
  /** Without one, the option may be left out and is then undefined. */
  readonly default?: number;
  /** Smallest value accepted; 1 unless said (counts, rates and durations). */
  readonly min?: number;
  readonly integer?: boolean;
}

export type OptionSpecs = Readonly<Record<string, NumberOption>>;

export type OptionValues<S extends OptionSpecs> = {
  readonly [K in keyof S]: S[K] extends { readonly default: number } ? number : number | undefined;
};

/** What a bench module exports besides its default function (which takes the parsed values). */
export interface BenchCommandLine {
  /** One line: what the bench measures against what. */
  readonly summary: string;
  readonly options: OptionSpecs;
}

function numberOf(name: string, text: string, spec: NumberOption): number | string {
  const value = Number(text.replace(/_/g, ''));
  const min = spec.min ?? 1;
  if (text.trim() === '' || !Number.isFinite(value)) return `--${name} takes a number, got "${text}"`;
  if (spec.integer && !Number.isInteger(value)) return `--${name} takes a whole number, got ${text}`;
  if (value < min) return `--${name} must be at least ${min}, got ${text}`;
  return value;
}

/** The values of `args` (defaults filled in), or what is wrong with them. */
export function parseBenchArgs<S extends OptionSpecs>(specs: S, args: readonly string[]): { values: OptionValues<S> } | { error: string } {
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: Object.fromEntries(Object.keys(specs).map((name) => [name, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    return { error: (err as Error).message };
  }
  const values: Record<string, number | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const text = parsed[name];
    if (typeof text !== 'string') {
      values[name] = spec.default;
      continue;
    }
    const value = numberOf(name, text, spec);
    if (typeof value === 'string') return { error: value };
    values[name] = value;
  }
  return { values: values as OptionValues<S> };
}

export function benchUsage(name: string, { summary, options }: BenchCommandLine): string {
  const rows = Object.entries(options).map(([option, spec]) => [`--${option} <n>`, `${spec.help}${spec.default === undefined ? '' : ` (default ${spec.default})`}`] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [`usage: npm run bench -- ${name} [options]`, '', summary, '', ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`), ''].join('\n');
}
