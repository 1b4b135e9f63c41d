/**
 * The metric and label names a PromQL query (or a Grafana `label_values(...)` variable query) refers to, and a check
 * of those names against the metric catalogue. Not a PromQL parser: it relies on our queries' conventions (every
 * metric of ours starts with `carbon_`, or `nodejs_` and `process_` for a worker's process series; label values are
 * double-quoted), which is what makes it short.
 */
import { prometheusSeries, requested, addedLabels, type CatalogueSeries } from './metric-catalogue.ts';

export interface PromqlReferences {
  readonly metrics: ReadonlySet<string>;
  /** Label names matched in a selector, per metric. */
  readonly selectorLabels: ReadonlyMap<string, ReadonlySet<string>>;
  /** Label names of `by`, `without`, `on`, `ignoring` clauses and of `label_values(metric, label)`. */
  readonly groupingLabels: ReadonlySet<string>;
}

const stringLiteral = /"(?:[^"\\]|\\.)*"/g;

export function promqlReferences(query: string, extraMetrics: readonly string[] = prometheusSeries): PromqlReferences {
  const metrics = new Set<string>();
  const selectorLabels = new Map<string, Set<string>>();
  const groupingLabels = new Set<string>();
  const metricName = new RegExp(`\\b((?:carbon|nodejs|process)_[a-z0-9_]+|${extraMetrics.join('|')})\\b\\s*(\\{[^}]*\\})?`, 'g');
  // Label values are blanked first: a string never names a metric or a label.
  const code = query.replace(stringLiteral, '""');
  for (const m of code.matchAll(metricName)) {
    const [, name, selector] = m;
    if (name === undefined) continue;
    metrics.add(name);
    if (selector) {
      const labels = selectorLabels.get(name) ?? new Set<string>();
      for (const matcher of selector.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
        if (matcher[1]) labels.add(matcher[1]);
      }
      selectorLabels.set(name, labels);
    }
  }
  for (const m of code.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const label of (m[1] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) groupingLabels.add(label);
  }
  for (const m of code.matchAll(/label_values\(\s*[a-zA-Z_:][\w:]*(?:\{[^}]*\})?\s*,\s*([a-zA-Z_]\w*)\s*\)/g)) {
    if (m[1]) groupingLabels.add(m[1]);
  }
  return { metrics, selectorLabels, groupingLabels };
}

/**
 * Problems with the names `query` uses: a metric that is neither in the catalogue nor requested, a label that none
 * of its metrics has. `allowRequested` says whether names asked of the platform but not there yet are accepted.
 */
export function checkQuery(
  query: string,
  catalogue: ReadonlyMap<string, CatalogueSeries>,
  allowRequested: boolean,
): string[] {
  const refs = promqlReferences(query);
  const problems: string[] = [];
  const labelsOf = (metric: string): Set<string> | undefined => {
    const known = catalogue.get(metric);
    const asked = allowRequested ? requested.get(metric) : undefined;
    if (!known && !asked && !prometheusSeries.includes(metric)) return undefined;
    return new Set([...(known?.labels ?? []), ...(asked?.labels ?? []), ...addedLabels]);
  };
  if (refs.metrics.size === 0) problems.push(`names no metric: ${query}`);
  const allLabels = new Set<string>(addedLabels);
  for (const metric of refs.metrics) {
    const labels = labelsOf(metric);
    if (!labels) {
      problems.push(`unknown metric ${metric}`);
      continue;
    }
    for (const l of labels) allLabels.add(l);
    for (const label of refs.selectorLabels.get(metric) ?? []) {
      if (!labels.has(label)) problems.push(`${metric} has no label ${label}`);
    }
  }
  for (const label of refs.groupingLabels) {
    if (!allLabels.has(label)) problems.push(`no metric of the query has the label ${label} it groups by`);
  }
  return problems;
}
