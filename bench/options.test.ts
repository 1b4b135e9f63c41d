/** The benches' command line: defaults, checks that fail before a bench starts, and --help. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { benchUsage, parseBenchArgs } from './_options.ts';

const specs = {
  rate: { default: 2_000, help: 'calls/s' },
  rounds: { default: 4, help: 'rounds', integer: true },
  seed: { default: 1, help: 'seed', integer: true, min: 0 },
  'start-ms': { help: 'first tick', integer: true },
} as const;

test('defaults fill what is not given; given values are read as numbers, with _ separators', (t) => {
  t.deepEqual(parseBenchArgs(specs, []), { values: { rate: 2_000, rounds: 4, seed: 1, 'start-ms': undefined } });
  t.deepEqual(parseBenchArgs(specs, ['--rate', '2_500.5', '--seed', '0', '--start-ms', '946684800000']), {
    values: { rate: 2_500.5, rounds: 4, seed: 0, 'start-ms': 946_684_800_000 },
  });
  t.deepEqual(parseBenchArgs(specs, ['--rounds=2']), { values: { rate: 2_000, rounds: 2, seed: 1, 'start-ms': undefined } });
});

test('a typo, a missing value or a value out of range is refused, naming the option', (t) => {
  const error = (args: string[]) => {
    const r = parseBenchArgs(specs, args);
    return 'error' in r ? r.error : 'accepted';
  };
  t.regex(error(['--round', '2']), /Unknown option '--round'/);
  t.regex(error(['--rounds']), /'--rounds <value>' argument missing/);
  t.regex(error(['2000']), /Unexpected argument '2000'/);
  t.is(error(['--rate', 'fast']), '--rate takes a number, got "fast"');
  t.is(error(['--rate', '']), '--rate takes a number, got ""');
  t.is(error(['--rounds', '1.5']), '--rounds takes a whole number, got 1.5');
  t.is(error(['--rate', '0']), '--rate must be at least 1, got 0');
  t.is(error(['--seed=-1']), '--seed must be at least 0, got -1');
});

test('the usage lists every option with its default', (t) => {
  const usage = benchUsage('demo', { summary: 'What it measures.', options: specs });
  t.regex(usage, /^usage: npm run bench -- demo \[options\]\n\nWhat it measures\.\n/);
  t.regex(usage, /--rate <n> +calls\/s \(default 2000\)/);
  t.regex(usage, /--start-ms <n> +first tick\n/);
});

test('npm run bench -- <name> --help prints its options and starts nothing; a bad option exits 2 with the usage', async (t) => {
  const run = promisify(execFile);
  const help = await run(process.execPath, ['--import=tsx', 'bench/run.ts', 'grpc', '--help']);
  t.regex(help.stdout, /--closed-seconds <n> +closed-loop time on each server, s, split over the rounds \(default 10\)/);
  t.notRegex(help.stdout + help.stderr, /\[bench\]/, 'no cluster was started');
  const bad = await run(process.execPath, ['--import=tsx', 'bench/run.ts', 'grpc', '--rounds2', '3']).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.is(bad?.code, 2);
  t.regex(bad?.stderr ?? '', /Unknown option '--rounds2'[\s\S]*usage: npm run bench -- grpc/);
});
