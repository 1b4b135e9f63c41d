/**
 * `carbon ingest csv <path>`: one CSV file, or every `*.csv` file of a folder in name order. Files are streamed
 * line by line; each becomes rows of its own origin (`csv:<file name>`).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SourceError, type RawRow, type RowSource } from '../raw-row.ts';
import { csvTableRows, type AbsentCounter } from './csv-table.ts';
import { splitLines } from './lines.ts';

export interface CsvSourceOptions {
  /** --commodity, already normalized; else from the file name or column names. */
  readonly commodity?: string | undefined;
  /** Bytes of a line kept for the DLQ; longer lines are rejected as oversized with their beginning. */
  readonly keepLineBytes?: number;
}

export const DEFAULT_KEEP_LINE_BYTES = 64 * 1024;

async function filesOf(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new SourceError(`csv source: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (info.isFile()) return [path];
  if (!info.isDirectory()) throw new SourceError(`csv source: ${path} is neither a file nor a folder`);
  const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith('.csv')).sort();
  if (names.length === 0) throw new SourceError(`csv source: the folder ${path} holds no .csv file`);
  return names.map((n) => join(path, n));
}

export class CsvSource implements RowSource {
  readonly description: string;
  readonly expectedRows = undefined;
  private readonly counter: AbsentCounter = { absent: 0 };

  constructor(private readonly path: string, private readonly options: CsvSourceOptions = {}) {
    this.description = `csv ${path}`;
  }

  absentCells(): number {
    return this.counter.absent;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RawRow> {
    for (const file of await filesOf(this.path)) {
      const name = basename(file);
      const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
      try {
        yield* csvTableRows(
          splitLines(stream, this.options.keepLineBytes ?? DEFAULT_KEEP_LINE_BYTES),
          { origin: `csv:${name}`, where: file, commodity: this.options.commodity, fileName: name },
          this.counter,
        );
      } catch (err) {
        if (err instanceof SourceError) throw err;
        throw new SourceError(`csv source: reading ${file} failed: ${(err as Error).message}`, { cause: err });
      } finally {
        stream.destroy();
      }
    }
  }
}
