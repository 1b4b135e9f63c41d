/**
 * `carbon`: the platform's command line. Each subcommand lives in cli/commands/<name>.ts and registers itself
 * on the program; this file only wires them and turns failures into a message and an exit status.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_SERVICES_UNREACHABLE, ServicesUnreachableError } from '../connectors/services-unreachable.ts';
import { StoreInUseError } from '../connectors/postgres/sql-store.ts';
import { ConfigError, EXIT_CONFIG } from '../platform/config.ts';
import { logger } from '../platform/logger.ts';
import type { RegisterCommand } from './commands/index.ts';

/** The version of the package this command belongs to (package.json, beside cli/). */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** EX_TEMPFAIL: the embedded store is another process's for now; the same command works once it stops. */
const EXIT_STORE_IN_USE = 75;

const program = new Command('carbon')
  .description('254Carbon: real-time commodity analytics and price predictions on supervised actors')
  .version(version, '-V, --version', 'print the version of 254Carbon')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/**
 * `carbon start` and `carbon worker` (every worker process the primary forks) load their own command only: the
 * other commands' modules take seconds to load, and a start must stop on a bad configuration at once.
 */
const registers: readonly RegisterCommand[] = ['start', 'worker'].includes(process.argv[2] ?? '')
  ? [(await import('./commands/start.ts')).registerStartCommands]
  : (await import('./commands/index.ts')).commands;
for (const register of registers) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ConfigError) {
    process.stderr.write(`carbon: configuration error: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof StoreInUseError) {
    process.stderr.write(`carbon: ${err.message}\n`);
    process.exit(EXIT_STORE_IN_USE);
  }
  if (err instanceof ServicesUnreachableError) {
    process.stderr.write(`carbon: ${err.message}\n`);
    process.exit(EXIT_SERVICES_UNREACHABLE);
  }
  logger.error('command_failed', { err });
  process.stderr.write(`carbon: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
