/**
 * Reading a Prometheus text exposition (a cluster's /metrics) in tests and benches: one line a sample,
 * `name{labels} value`.
 */

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/;

/** Every sample, keyed by `name{labels}` as written. */
export function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = sampleLine.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** The values of the samples of metric `name` whose labels include every `labels` pair. */
export function sampleValues(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number[] {
  const values: number[] = [];
  for (const [series, value] of parseSamples(text)) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) values.push(value);
  }
  return values;
}
