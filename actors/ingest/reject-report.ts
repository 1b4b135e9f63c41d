/**
 * What an ingest run says about its rejected rows beyond their counts: the first few of each reason, located
 * (file, line, the value refused), and each table whose lines disagree with its header, once per file with the
 * counts. A file malformed at its source (the IMF file: a 64-name header over 95-cell lines) is one finding that
 * explains its hundreds of rejects, not hundreds of unexplained ones.
 */
import type { RawRow } from './raw-row.ts';
import type { RejectReason } from './validate.ts';

/** Examples kept per reason: enough to see the pattern, few enough to read. */
export const EXAMPLES_PER_REASON = 3;

export interface RejectExample {
  readonly reason: RejectReason;
  readonly file: string;
  readonly line: number;
  /** The series column of a wide file. */
  readonly column?: string;
  /** The refused value as read. */
  readonly value: string;
  readonly detail: string;
}

/** A table some of whose lines have another cell count than its header names columns. */
export interface TableMismatch {
  readonly file: string;
  readonly headerCells: number;
  /** Data lines of the file that produced a row. */
  readonly lines: number;
  readonly mismatchedLines: number;
  /** The cell counts found on those lines, ascending. */
  readonly cellCounts: readonly number[];
}

export interface RejectReport {
  readonly examples: readonly RejectExample[];
  readonly tableMismatches: readonly TableMismatch[];
}

interface FileTally {
  lines: number;
  lastLine: number;
  mismatchedLines: number;
  headerCells: number;
  readonly cellCounts: Set<number>;
}

export class RejectReporter {
  private readonly examples: RejectExample[] = [];
  private readonly examplesPerReason = new Map<RejectReason, number>();
  private readonly files = new Map<string, FileTally>();
  /** The file of the previous row: rows come file by file, so most rows skip the map. */
  private current: { file: string; tally: FileTally } | undefined;

  /** Every row read, in source order (a wide line yields several rows of the same line). */
  read(row: RawRow): void {
    if (this.current?.file !== row.file) {
      let tally = this.files.get(row.file);
      if (tally === undefined) {
        tally = { lines: 0, lastLine: -1, mismatchedLines: 0, headerCells: 0, cellCounts: new Set() };
        this.files.set(row.file, tally);
      }
      this.current = { file: row.file, tally };
    }
    const tally = this.current.tally;
    if (row.lineNo !== tally.lastLine) {
      tally.lines++;
      tally.lastLine = row.lineNo;
    }
    if (row.cells !== undefined && row.cells.found !== row.cells.expected) {
      tally.mismatchedLines++;
      tally.headerCells = row.cells.expected;
      tally.cellCounts.add(row.cells.found);
    }
  }

  /** A row that `read` saw and validation refused. */
  rejected(row: RawRow, reason: RejectReason, value: string, detail: string): void {
    const kept = this.examplesPerReason.get(reason) ?? 0;
    if (kept >= EXAMPLES_PER_REASON) return;
    this.examplesPerReason.set(reason, kept + 1);
    this.examples.push({ reason, file: row.file, line: row.lineNo, ...(row.column === undefined ? {} : { column: row.column }), value, detail });
  }

  report(): RejectReport {
    const tableMismatches = [...this.files]
      .filter(([, t]) => t.mismatchedLines > 0)
      .map(([file, t]) => ({ file, headerCells: t.headerCells, lines: t.lines, mismatchedLines: t.mismatchedLines, cellCounts: [...t.cellCounts].sort((a, b) => a - b) }));
    return { examples: [...this.examples], tableMismatches };
  }
}

/** One sentence about a mismatched table, for a summary. */
export function describeTableMismatch(m: TableMismatch): string {
  const found = `${m.cellCounts.join(' or ')} cells`;
  const share = m.mismatchedLines === m.lines
    ? `all ${m.lines} of its lines have ${found}: none of it can be read`
    : `${m.mismatchedLines} of its ${m.lines} lines ${m.mismatchedLines === 1 ? 'has' : 'have'} ${found}: ${m.mismatchedLines === 1 ? 'that line' : 'those lines'} cannot be read`;
  return `${m.file}: its header names ${m.headerCells} columns, but ${share} (which value is in which column is unknown: rejected as column_count_mismatch)`;
}
