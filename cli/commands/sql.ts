/**
 * `carbon sql`: one SQL statement through Trino (its HTTP protocol: connectors/trino/trino-client.ts), the result
 * as a table, CSV or JSON lines, for analysts without a SQL client. Unqualified names resolve in the
 * postgresql catalog's analytics schema (docs/analytics.md). Exit status: 0 done, 1 the statement failed in
 * Trino or the command line is wrong, 2 bad configuration, 3 Trino unreachable, 130 interrupted (the query is
 * cancelled).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runStatement, TrinoError } from '../../connectors/trino/trino-client.ts';
import { loadConfig } from '../../platform/config.ts';
import { formatResult, outputFormats, type OutputFormat } from './sql-output.ts';

interface SqlOptions {
  readonly file?: string;
  readonly server?: string;
  readonly user: string;
  readonly catalog: string;
  readonly schema: string;
  readonly format: OutputFormat;
}

function parseServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
}

const exitFor: Record<TrinoError['code'], number> = {
  TRINO_QUERY_FAILED: 1,
  TRINO_HTTP_STATUS: 1,
  TRINO_UNREACHABLE: 3,
  TRINO_CANCELLED: 130,
};

function failed(exitCode: number, message: string): CommanderError {
  process.stderr.write(`carbon sql: ${message}\n`);
  return new CommanderError(exitCode, 'carbon.sql', message);
}

/** The statement: the argument, else the file, else standard input (a pipe or a redirect, not a terminal). */
function statementOf(query: string | undefined, opts: SqlOptions): string {
  if (query !== undefined && opts.file !== undefined) throw failed(1, 'give the statement as an argument or with --file, not both');
  let text: string;
  if (query !== undefined) text = query;
  else if (opts.file !== undefined) {
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw failed(1, `cannot read ${opts.file}: ${(err as Error).message}`);
    }
  } else if (!process.stdin.isTTY) text = readFileSync(0, 'utf8');
  else throw failed(1, 'no statement: give it as an argument, with --file, or on standard input (see --help)');
  // Trino takes one statement without the terminating semicolon that psql users type.
  const statement = text.trim().replace(/;\s*$/, '').trim();
  if (statement === '') throw failed(1, 'the statement is empty');
  return statement;
}

export function registerSqlCommand(program: Command): void {
  program
    .command('sql')
    .description('run a SQL statement through Trino over the analytics schema, and print its result')
    .argument('[statement]', 'the SQL statement (else --file, else standard input)')
    .option('-f, --file <path>', 'read the statement from a file')
    .addOption(new Option('--format <format>', 'output format').choices(outputFormats).default('table'))
    .option('--server <url>', 'the Trino coordinator (default: CARBON_TRINO_URL, http://127.0.0.1:8080)', parseServer)
    // From the environment, not os.userInfo(): a container's user id often has no name, and userInfo() then throws.
    .option('--user <name>', 'user name Trino runs the statement as ($USER when it is set)', process.env.USER ?? process.env.LOGNAME ?? 'carbon')
    .option('--catalog <name>', 'catalog of unqualified table names', 'postgresql')
    .option('--schema <name>', 'schema of unqualified table names', 'analytics')
    .addHelpText('after', `
Formats: table (aligned, for people), csv (RFC 4180 with a header line, NULL as an empty field), json (one
object a line, keyed by column name, NULL as null). Tables and views: docs/analytics.md; their outcomes are as
fresh as the last \`carbon analytics refresh\`.

Examples:
  carbon sql "SELECT commodity, month, hit_rate, coverage FROM monthly_prediction_quality ORDER BY 1, 2"
  carbon sql --format csv -f hit-rates.sql > hit-rates.csv
  echo "SHOW TABLES" | carbon sql --format json
  carbon sql --server http://trino.example:8080 "SELECT count(*) FROM prediction_outcomes"

Exit status: 0 done, 1 the statement failed in Trino or the command line is wrong, 2 bad configuration,
3 Trino unreachable (is it running? \`npm run services:up\` starts one), 130 interrupted (the query is cancelled).`)
    .action(async (query: string | undefined, opts: SqlOptions) => {
      const statement = statementOf(query, opts);
      const serverUrl = opts.server ?? loadConfig().trinoUrl;
      const interrupt = new AbortController();
      const onSigint = (): void => interrupt.abort();
      process.once('SIGINT', onSigint);
      try {
        const result = await runStatement({ serverUrl, user: opts.user, catalog: opts.catalog, schema: opts.schema, source: 'carbon-sql' }, statement, interrupt.signal);
        process.stdout.write(result.columns.length > 0 ? formatResult(opts.format, result) : `${result.updateType ?? 'done'}\n`);
      } catch (err) {
        if (err instanceof TrinoError) throw failed(exitFor[err.code], err.message);
        throw err;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
