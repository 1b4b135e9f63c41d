/** Writes deploy/prometheus/prometheus-rule.yaml from rules.yml (see prometheus-rule.ts). */
import { writeFileSync } from 'node:fs';
import { currentPrometheusRuleYaml, prometheusRulePath } from './prometheus-rule.ts';

writeFileSync(prometheusRulePath, currentPrometheusRuleYaml());
process.stdout.write(`wrote ${prometheusRulePath}\n`);
