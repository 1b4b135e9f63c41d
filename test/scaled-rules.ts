/**
 * A copy of deploy/prometheus/rules.yml whose `for:` durations, and nothing else, are divided by a factor: for the
 * live test that breaks each alert's cause on a running cluster, which cannot wait 5-30 minutes per alert.
 */
import { parse, stringify } from 'yaml';

interface Rule {
  alert?: string;
  for?: string;
  [key: string]: unknown;
}
interface RuleGroups {
  groups: { name: string; rules: Rule[] }[];
}

const unitSeconds: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** Seconds of a Prometheus duration such as `10m` or `1h30m`. */
export function durationSeconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a Prometheus duration: ${duration}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * unitSeconds[p[2]!]!, 0);
}

export function ruleGroups(rulesText: string): RuleGroups {
  const parsed = parse(rulesText) as RuleGroups;
  if (!Array.isArray(parsed.groups)) throw new Error('rules: expected a top-level "groups" list');
  return parsed;
}

/** Every alerting rule: its name and `for:` in seconds (0 without one). */
export function alertsOf(rulesText: string): { readonly name: string; readonly forS: number }[] {
  return ruleGroups(rulesText).groups.flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [{ name: r.alert, forS: r.for === undefined ? 0 : durationSeconds(r.for) }])));
}

/** `rulesText` with each `for:` divided by `factor` (whole seconds, at least 1). */
export function scaleForDurations(rulesText: string, factor: number): string {
  const rules = ruleGroups(rulesText);
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      if (rule.for !== undefined) rule.for = `${Math.max(1, Math.round(durationSeconds(rule.for) / factor))}s`;
    }
  }
  return stringify(rules, { lineWidth: 0 });
}
