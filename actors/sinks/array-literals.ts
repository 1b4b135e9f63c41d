/**
 * Postgres array literals for the unnest() upserts, built directly: pg's generic array serialization escapes
 * every element as text and was the largest cost of a worker's writes in a CPU profile. Numbers are finite here
 * (the features never hold NaN or Infinity), so their JavaScript text is a valid float8/bigint literal.
 */
export function numberArray(values: readonly (number | null | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : String(v);
  }
  return `${out}}`;
}

export function boolArray(values: readonly boolean[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) out += (i > 0 ? ',' : '') + (values[i] ? 't' : 'f');
  return `${out}}`;
}

/** Every element quoted, with `"` and `\` escaped: safe for any text. */
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string;
    out += `${i > 0 ? ',' : ''}"${/["\\]/.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
  }
  return `${out}}`;
}
