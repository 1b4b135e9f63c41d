/**
 * The PrometheusRule of deploy/k8s, derived from deploy/prometheus/rules.yml so that the rules promtool tests and the
 * rules the Prometheus operator loads cannot drift: `build-prometheus-rule.ts` writes it, and test/deploy.test.ts
 * fails when the committed file is not what this function makes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const prometheusDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'prometheus');
export const rulesPath = join(prometheusDir, 'rules.yml');
export const prometheusRulePath = join(prometheusDir, 'prometheus-rule.yaml');

export function prometheusRuleYaml(rulesText: string): string {
  const rules = parse(rulesText) as { groups?: unknown };
  if (!Array.isArray(rules.groups)) throw new Error('rules.yml: expected a top-level "groups" list');
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'carbon-alerts',
      labels: { 'app.kubernetes.io/name': 'carbon', 'app.kubernetes.io/component': 'alerts', role: 'alert-rules' },
    },
    spec: { groups: rules.groups },
  };
  const header = '# Generated from rules.yml by `npx tsx deploy/tools/build-prometheus-rule.ts`: edit rules.yml, not this file.\n';
  return header + stringify(resource, { lineWidth: 0 });
}

export function currentPrometheusRuleYaml(): string {
  return prometheusRuleYaml(readFileSync(rulesPath, 'utf8'));
}
