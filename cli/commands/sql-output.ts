/**
 * A query result as `carbon sql` prints it: an aligned table for people, CSV (RFC 4180) for spreadsheets, JSON
 * lines (one object a row, keyed by column name) for jq and scripts. Pure: strings in, strings out.
 */
import type { TrinoColumn, TrinoValue } from '../../connectors/trino/trino-client.ts';

export const outputFormats = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface QueryOutput {
  readonly columns: readonly TrinoColumn[];
  readonly rows: readonly (readonly TrinoValue[])[];
}

/** Trino types whose values read best right-aligned. */
const numericType = /^(tinyint|smallint|integer|bigint|real|double|decimal)/;

/** A value as text: NULL as `nullText`, arrays, maps and rows as JSON, everything else as Trino sent it. */
function text(value: TrinoValue, nullText: string): string {
  if (value === null) return nullText;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function formatTable(out: QueryOutput): string {
  const header = out.columns.map((c) => c.name);
  const cells = out.rows.map((row) => row.map((v) => text(v, 'NULL').replace(/\n/g, '\\n')));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const right = out.columns.map((c) => numericType.test(c.type));
  const line = (r: readonly string[]) => r.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const count = `(${out.rows.length} row${out.rows.length === 1 ? '' : 's'})`;
  return [line(header), rule, ...cells.map(line), count, ''].join('\n');
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; NULL is an empty field. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv(out: QueryOutput): string {
  const lines = [out.columns.map((c) => csvField(c.name)), ...out.rows.map((row) => row.map((v) => csvField(text(v, ''))))];
  return lines.map((l) => `${l.join(',')}\r\n`).join('');
}

export function formatJsonLines(out: QueryOutput): string {
  return out.rows.map((row) => `${JSON.stringify(Object.fromEntries(out.columns.map((c, i) => [c.name, row[i] ?? null])))}\n`).join('');
}

export function formatResult(format: OutputFormat, out: QueryOutput): string {
  switch (format) {
    case 'table':
      return formatTable(out);
    case 'csv':
      return formatCsv(out);
    case 'json':
      return formatJsonLines(out);
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}
