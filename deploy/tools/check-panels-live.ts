/**
 * Asks a running Prometheus every query of the Grafana dashboards (variables set to "All", `$__rate_interval` to
 * the given window) and every alert rule's health; prints one line per query and exits 1 when a query fails, or
 * returns no series or only NaN. Used by check-live.sh once Prometheus has scraped a running cluster.
 *
 * Usage: npx tsx deploy/tools/check-panels-live.ts <prometheus-url> [rate-window, default 1m]
 */
import { dashboards, dashboardJson } from './dashboards.ts';

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}
interface RulesResponse {
  data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
}

const [prometheusUrl, rateWindow = '1m'] = process.argv.slice(2);
if (!prometheusUrl) {
  process.stderr.write('usage: check-panels-live.ts <prometheus-url> [rate-window]\n');
  process.exit(2);
}

function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', rateWindow).replaceAll('$namespace', '.*').replaceAll('$commodity', '.*');
}

async function query(expr: string): Promise<QueryResponse> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await res.json()) as QueryResponse;
}

let failures = 0;
let checked = 0;
for (const spec of dashboards) {
  const json = dashboardJson(spec) as { panels: { title: string; targets: { expr: string; refId: string }[] }[] };
  for (const panel of json.panels) {
    for (const target of panel.targets) {
      checked += 1;
      const expr = substitute(target.expr);
      const answer = await query(expr);
      const values = answer.data?.result.map((r) => Number(r.value?.[1])) ?? [];
      const finite = values.filter((v) => Number.isFinite(v));
      const ok = answer.status === 'success' && finite.length > 0;
      if (!ok) failures += 1;
      const detail = answer.status !== 'success' ? `error: ${answer.error}` : `${values.length} series, ${finite.length} finite`;
      process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${spec.file} / ${panel.title} [${target.refId}]  ${detail}\n`);
      if (!ok) process.stdout.write(`      ${expr}\n`);
    }
  }
}

const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as RulesResponse;
for (const group of rules.data.groups) {
  for (const rule of group.rules) {
    checked += 1;
    const ok = rule.health === 'ok';
    if (!ok) failures += 1;
    process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  rule ${group.name} / ${rule.name}  health ${rule.health}${rule.lastError ? `: ${rule.lastError}` : ''}\n`);
  }
}

process.stdout.write(`${checked - failures} passed, ${failures} failed\n`);
process.exitCode = failures === 0 ? 0 : 1;
