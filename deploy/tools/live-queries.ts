/**
 * Asks a running Prometheus what the dashboards and alert rules would show: every panel query of every dashboard
 * (variables at "All", `$__rate_interval` set to a window) as Grafana sends it, a range query over the time
 * since scraping began for graphs and heatmaps and an instant query for stat panels; and the health of every rule.
 * A panel query passes when it succeeds with at least one finite value: no series at all, or only NaN (a quantile
 * or a ratio over nothing), is an empty panel.
 */
import { dashboardJson, dashboards } from './dashboards.ts';

export interface PanelSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** One value per step of a range query; a single one for an instant query. */
  readonly values: readonly number[];
}

export interface PanelQueryResult {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
  readonly instant: boolean;
  readonly error?: string;
  readonly series: readonly PanelSeries[];
}

export interface RuleResult {
  readonly group: string;
  readonly name: string;
  readonly health: string;
  readonly lastError?: string;
}

/** The time range of range queries, Unix seconds, and their step. */
export interface QueryWindow {
  readonly rateWindow: string;
  readonly fromS: number;
  readonly stepS: number;
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
}
interface RulesResponse {
  data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
}

const finiteValues = (r: PanelQueryResult): number[] => r.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));

export const passes = (r: PanelQueryResult): boolean => r.error === undefined && finiteValues(r).length > 0;

/** The largest finite value the panel shows (0 when none). */
export const largestValue = (r: PanelQueryResult): number => Math.max(0, ...finiteValues(r));

/** The query as Grafana would send it with every variable at "All". */
export function substituteVariables(expr: string, rateWindow: string): string {
  return expr.replaceAll('$__rate_interval', rateWindow).replaceAll('$namespace', '.*').replaceAll('$commodity', '.*');
}

async function ask(prometheusUrl: string, path: string, params: Record<string, string>): Promise<Pick<PanelQueryResult, 'error' | 'series'>> {
  const res = await fetch(`${prometheusUrl}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(30_000) });
  const answer = (await res.json()) as QueryResponse;
  if (answer.status !== 'success') return { error: answer.error ?? `HTTP ${res.status}`, series: [] };
  return {
    series: (answer.data?.result ?? []).map((r) => ({
      labels: r.metric,
      values: r.values ? r.values.map(([, v]) => Number(v)) : [Number(r.value?.[1])],
    })),
  };
}

export function instantQuery(prometheusUrl: string, expr: string): Promise<Pick<PanelQueryResult, 'error' | 'series'>> {
  return ask(prometheusUrl, '/api/v1/query', { query: expr });
}

export function rangeQuery(prometheusUrl: string, expr: string, fromS: number, stepS: number): Promise<Pick<PanelQueryResult, 'error' | 'series'>> {
  return ask(prometheusUrl, '/api/v1/query_range', { query: expr, start: String(fromS), end: String(Date.now() / 1000), step: String(stepS) });
}

export async function queryPanels(prometheusUrl: string, window: QueryWindow): Promise<PanelQueryResult[]> {
  const results: PanelQueryResult[] = [];
  for (const spec of dashboards) {
    const json = dashboardJson(spec) as { panels: { title: string; targets: { expr: string; refId: string; instant: boolean }[] }[] };
    for (const panel of json.panels) {
      for (const target of panel.targets) {
        const expr = substituteVariables(target.expr, window.rateWindow);
        const answer = target.instant ? await instantQuery(prometheusUrl, expr) : await rangeQuery(prometheusUrl, expr, window.fromS, window.stepS);
        results.push({ dashboard: spec.file, panel: panel.title, refId: target.refId, expr, instant: target.instant, ...answer });
      }
    }
  }
  return results;
}

export async function ruleHealth(prometheusUrl: string): Promise<RuleResult[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/rules`, { signal: AbortSignal.timeout(30_000) });
  const answer = (await res.json()) as RulesResponse;
  return answer.data.groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, name: r.name, health: r.health, ...(r.lastError ? { lastError: r.lastError } : {}) })));
}

/** One line per panel query: PASS or FAIL, where, and what came back. */
export function describePanelResult(r: PanelQueryResult): string {
  const detail = r.error !== undefined
    ? `error: ${r.error}`
    : `${r.instant ? 'now' : 'range'}: ${r.series.length} series, ${finiteValues(r).length} finite values, largest ${largestValue(r)}`;
  return `${passes(r) ? 'PASS' : 'FAIL'}  ${r.dashboard} / ${r.panel} [${r.refId}]  ${detail}${passes(r) ? '' : `\n      ${r.expr}`}`;
}

export function describeRuleResult(r: RuleResult): string {
  return `${r.health === 'ok' ? 'PASS' : 'FAIL'}  rule ${r.group} / ${r.name}  health ${r.health}${r.lastError ? `: ${r.lastError}` : ''}`;
}

/**
 * Asks every panel query until all pass (and `until` holds) or `timeoutMs` has passed: the last events of a
 * scenario reach the panels only after a scrape and, for rates, a second one. Returns the last answers.
 */
export async function awaitPanels(
  prometheusUrl: string,
  window: QueryWindow,
  timeoutMs: number,
  until: (results: readonly PanelQueryResult[]) => boolean = () => true,
): Promise<PanelQueryResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results = await queryPanels(prometheusUrl, window);
    if ((results.every(passes) && until(results)) || Date.now() > deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Waits until every rule has been evaluated (health is "unknown" before the first evaluation). */
export async function awaitRuleEvaluations(prometheusUrl: string, timeoutMs: number): Promise<RuleResult[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results = await ruleHealth(prometheusUrl);
    if (results.every((r) => r.health !== 'unknown') || Date.now() > deadline) return results;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
