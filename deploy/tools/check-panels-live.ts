/**
 * Asks a running Prometheus every query of the Grafana dashboards (variables set to "All", `$__rate_interval` to
 * the given window; graphs over the last `range-minutes`) and every alert rule's health; prints one line per query
 * and exits 1 when a query fails, or returns no series or only NaN, or a rule does not evaluate. check-live.ts does
 * this after its scenario.
 *
 * Usage: npx tsx deploy/tools/check-panels-live.ts <prometheus-url> [rate-window, default 1m] [range-minutes, default 15]
 */
import { describePanelResult, describeRuleResult, passes, queryPanels, ruleHealth } from './live-queries.ts';

const [prometheusUrl, rateWindow = '1m', rangeMinutes = '15'] = process.argv.slice(2);
if (!prometheusUrl || !(Number(rangeMinutes) > 0)) {
  process.stderr.write('usage: check-panels-live.ts <prometheus-url> [rate-window] [range-minutes]\n');
  process.exit(2);
}

const panels = await queryPanels(prometheusUrl, { rateWindow, fromS: Date.now() / 1000 - Number(rangeMinutes) * 60, stepS: 2 });
const rules = await ruleHealth(prometheusUrl);
for (const r of panels) process.stdout.write(`${describePanelResult(r)}\n`);
for (const r of rules) process.stdout.write(`${describeRuleResult(r)}\n`);
const failures = panels.filter((r) => !passes(r)).length + rules.filter((r) => r.health !== 'ok').length;
process.stdout.write(`${panels.length + rules.length - failures} passed, ${failures} failed\n`);
process.exitCode = failures === 0 ? 0 : 1;
