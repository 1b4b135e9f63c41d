/**
 * The operations artefacts checked with real tools: kustomize (kubectl's) renders each overlay; every object passes
 * its kind's schema and declares no unknown field; every name it refers to exists; the ConfigMap passes the
 * platform's own config loader; promtool checks and unit-tests the alert rules and lints the catalogue's exposition;
 * dashboards and alerts name only metrics and labels of platform/metrics.ts; generated files are current.
 * Needs `kubectl` (kustomize built in) and `promtool` (Debian's prometheus package) on the PATH.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allTopicNames, topicNames } from '../connectors/kafka/topics.ts';
import { loadConfig } from '../platform/config.ts';
import { registry } from '../platform/metrics.ts';
import { dashboardFiles, grafanaDir } from '../deploy/tools/dashboards.ts';
import {
  crossReferenceProblems,
  describe,
  externalSecrets,
  overlays,
  podTemplates,
  render,
  repoRoot,
  schemaProblems,
  strictFieldProblems,
  type K8sObject,
  type Overlay,
  type PodSpec,
} from '../deploy/tools/manifests.ts';
import { catalogueSeries, requested } from '../deploy/tools/metric-catalogue.ts';
import { currentPrometheusRuleYaml, prometheusDir, prometheusRulePath, rulesPath } from '../deploy/tools/prometheus-rule.ts';
import { checkQuery, promqlReferences } from '../deploy/tools/promql-references.ts';

const rendered = new Map<Overlay, K8sObject[]>(overlays.map((o) => [o, render(o)]));
const objectsOf = (overlay: Overlay) => rendered.get(overlay) ?? [];
const one = (objects: readonly K8sObject[], kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} is not rendered`);
  return o;
};
const configData = (objects: readonly K8sObject[]) => one(objects, 'ConfigMap', 'carbon-config').data as Record<string, string>;
const workerPod = (objects: readonly K8sObject[]) =>
  (one(objects, 'Deployment', 'carbon-worker').spec as { template: { spec: PodSpec & Record<string, unknown> } }).template.spec;

interface RuleGroup {
  name: string;
  rules: { alert?: string; expr: string; annotations?: Record<string, string>; labels?: Record<string, string> }[];
}
const rules = parse(readFileSync(rulesPath, 'utf8')) as { groups: RuleGroup[] };
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

function run(command: string, args: string[], cwd = repoRoot): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`${command} could not run (${r.error.message}); CI installs it: see test/deploy.test.ts header`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

// --- Kubernetes ---------------------------------------------------------------------------------------------------

for (const overlay of overlays) {
  test(`${overlay}: kustomize renders every part the platform needs`, (t) => {
    const kinds = objectsOf(overlay).map((o) => o.kind);
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    t.is(count('Namespace'), 1);
    t.is(count('Deployment'), 3, 'the workers, the Pushgateway and Trino');
    t.is(count('Service'), 4);
    t.is(count('PodDisruptionBudget'), 1);
    t.is(count('HorizontalPodAutoscaler'), 1);
    t.is(count('CronJob'), 3);
    t.is(count('ServiceAccount'), 6);
    t.true(count('Role') >= 1 && count('RoleBinding') >= 1);
    t.true(count('NetworkPolicy') >= 3);
    t.is(count('ServiceMonitor'), 2);
    t.is(count('PrometheusRule'), 1);
    t.is(count('KafkaTopic'), 8);
    t.is(count('ConfigMap'), 7, 'carbon-config, Trino\'s and the five dashboards');
  });

  test(`${overlay}: every object passes its kind's schema`, async (t) => {
    t.deepEqual(await schemaProblems(objectsOf(overlay)), []);
  });

  test(`${overlay}: every ServiceAccount, ConfigMap, Secret, key, volume, port and selector named exists`, (t) => {
    t.deepEqual(crossReferenceProblems(objectsOf(overlay)), []);
  });
}

test('no object of any overlay has a field its kind does not declare (tsc excess-property check)', (t) => {
  t.deepEqual(strictFieldProblems(overlays.flatMap(objectsOf)), []);
});

test('the checks catch broken manifests', async (t) => {
  const broken = structuredClone(objectsOf('prod')) as K8sObject[];
  const pod = workerPod(broken);
  const container = pod.containers[0] as unknown as { ports: { containerPort: unknown }[]; env: { valueFrom?: { secretKeyRef?: { key: string } } }[] } & Record<string, unknown>;
  container.ports[0]!.containerPort = 'fifty';
  pod.serviceAccountName = 'nobody';
  container.env[0]!.valueFrom!.secretKeyRef!.key = 'password';
  const grpcService = one(broken, 'Service', 'carbon-grpc').spec as { ports: { targetPort: string }[] };
  grpcService.ports[0]!.targetPort = 'grcp';
  const monitor = one(broken, 'ServiceMonitor', 'carbon').spec as { endpoints: Record<string, unknown>[] };
  monitor.endpoints[0]!.intervall = '5s';
  const topic = one(broken, 'KafkaTopic', 'commodity-prices').spec as Record<string, unknown>;
  topic.replicas = 0;
  const ingest = one(broken, 'CronJob', 'carbon-ingest').spec as { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } };
  ingest.jobTemplate.spec.template.spec.containers[0]!.args[2] = '$(CARBON_PRICE_URL)';

  const schema = await schemaProblems(broken);
  t.true(schema.some((p) => p.startsWith('Deployment/carbon-worker') && p.includes('containerPort must be integer')), schema.join('\n'));
  t.true(schema.some((p) => p.startsWith('KafkaTopic/commodity-prices') && p.includes('replicas')), schema.join('\n'));
  const strict = strictFieldProblems(broken);
  t.true(strict.some((p) => p.startsWith('ServiceMonitor/carbon') && p.includes('intervall')), strict.join('\n'));
  const refs = crossReferenceProblems(broken);
  t.true(refs.includes('Deployment/carbon-worker: ServiceAccount nobody does not exist'), refs.join('\n'));
  t.true(refs.includes('Deployment/carbon-worker container carbon env DATABASE_URL: Secret carbon-connections has no key password'), refs.join('\n'));
  t.true(refs.includes('Service/carbon-grpc: targetPort grcp is not a port of every selected pod'), refs.join('\n'));
  t.true(refs.includes('CronJob/carbon-ingest container ingest: $(CARBON_PRICE_URL) in its command is not in its environment'), refs.join('\n'));
  t.deepEqual(
    crossReferenceProblems(broken.filter((o) => o.kind !== 'NetworkPolicy' || o.metadata.name !== 'default-deny-all')),
    [...refs, 'no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)'],
  );
});

test('prod: worker Deployment has 3 replicas, rolls one pod at a time and probes through gRPC health', (t) => {
  const objects = objectsOf('prod');
  const deployment = one(objects, 'Deployment', 'carbon-worker').spec as {
    replicas: number;
    strategy: { type: string; rollingUpdate: { maxUnavailable: number; maxSurge: number } };
  };
  t.is(deployment.replicas, 3);
  t.deepEqual(deployment.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const data = configData(objects);
  const container = workerPod(objects).containers[0] as {
    readinessProbe: { grpc: { port: number; service?: string } };
    livenessProbe: { grpc: { port: number } };
    startupProbe: { grpc: { port: number } };
  };
  const healthPort = Number(data.CARBON_GRPC_HEALTH_PORT);
  t.deepEqual(container.readinessProbe.grpc, { port: healthPort, service: 'carbon.v1.PredictionService' });
  t.deepEqual(container.livenessProbe.grpc, { port: healthPort });
  t.deepEqual(container.startupProbe.grpc, { port: healthPort });
});

for (const overlay of overlays) {
  test(`${overlay}: every container runs non-root, read-only, without privileges, with requests and limits`, (t) => {
    const pods = podTemplates(objectsOf(overlay));
    t.is(pods.length, 6);
    for (const pod of pods) {
      const spec = pod.spec as PodSpec & { securityContext?: Record<string, unknown>; automountServiceAccountToken?: boolean };
      t.is(spec.securityContext?.runAsNonRoot, true, describe(pod.owner));
      t.deepEqual(spec.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, describe(pod.owner));
      t.is(spec.automountServiceAccountToken, false, describe(pod.owner));
      for (const c of spec.containers as ({ securityContext?: Record<string, unknown>; resources?: Record<string, Record<string, string>> } & { name: string })[]) {
        const where = `${describe(pod.owner)} ${c.name}`;
        t.is(c.securityContext?.readOnlyRootFilesystem, true, where);
        t.is(c.securityContext?.allowPrivilegeEscalation, false, where);
        t.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] }, where);
        for (const kind of ['requests', 'limits']) {
          t.truthy(c.resources?.[kind]?.cpu, `${where} ${kind}.cpu`);
          t.truthy(c.resources?.[kind]?.memory, `${where} ${kind}.memory`);
        }
      }
    }
  });

  test(`${overlay}: termination grace covers the preStop pause and the 10 s drain`, (t) => {
    const objects = objectsOf(overlay);
    const pod = workerPod(objects) as unknown as PodSpec & { terminationGracePeriodSeconds: number };
    const container = pod.containers[0] as unknown as { lifecycle?: { preStop?: { sleep?: { seconds: number } } } };
    const preStopS = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    const drainBoundS = 10;
    t.true(pod.terminationGracePeriodSeconds > preStopS + drainBoundS, `${pod.terminationGracePeriodSeconds} s`);
    const shutdownS = loadConfig(configData(objects)).cluster.shutdownTimeoutMs / 1000;
    t.true(shutdownS <= drainBoundS, `CARBON_SHUTDOWN_TIMEOUT ${shutdownS} s is within the 10 s drain`);
  });

  test(`${overlay}: CronJobs run ingest at 02:00 and train at 01:00 UTC, never two at once, with bounded history`, (t) => {
    const objects = objectsOf(overlay);
    const expected = {
      'carbon-ingest': { schedule: '0 2 * * *', command: ['ingest', 'http'] },
      'carbon-train': { schedule: '0 1 * * *', command: ['train', '--all'] },
    };
    for (const [name, want] of Object.entries(expected)) {
      const spec = one(objects, 'CronJob', name).spec as {
        schedule: string;
        timeZone: string;
        concurrencyPolicy: string;
        successfulJobsHistoryLimit: number;
        failedJobsHistoryLimit: number;
        jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
      };
      t.is(spec.schedule, want.schedule, name);
      t.is(spec.timeZone, 'Etc/UTC', name);
      t.is(spec.concurrencyPolicy, 'Forbid', name);
      t.true(spec.successfulJobsHistoryLimit > 0 && spec.successfulJobsHistoryLimit <= 5, name);
      t.true(spec.failedJobsHistoryLimit > 0 && spec.failedJobsHistoryLimit <= 10, name);
      t.deepEqual(spec.jobTemplate.spec.template.spec.containers[0]?.args.slice(0, 2), want.command, name);
    }
  });

  test(`${overlay}: the ConfigMap passes the platform's config loader and its ports are the container's`, (t) => {
    const objects = objectsOf(overlay);
    const data = configData(objects);
    const config = loadConfig({ ...data, DATABASE_URL: 'postgres://carbon@postgres:5432/carbon', REDIS_URL: 'redis://redis:6379' });
    const ports = new Map(
      (workerPod(objects).containers[0]?.ports ?? []).map((p) => [p.name ?? '', p.containerPort]),
    );
    t.is(ports.get('grpc'), config.grpc.port);
    t.is(ports.get('metrics'), config.cluster.metricsPort);
    t.is(ports.get('grpc-health'), Number(data.CARBON_GRPC_HEALTH_PORT));
    t.is(config.grpc.host, '0.0.0.0');
    t.is(config.cluster.metricsHost, '0.0.0.0');
    const internal = [...ports].filter(([name]) => name.startsWith('grpc-internal-')).map(([, port]) => port);
    t.deepEqual(internal, Array.from({ length: config.cluster.workers }, (_, i) => config.grpc.internalPortBase + i), 'one internal port per worker');
    // The files named by the TLS and token variables are in the worker's mounts, from Secrets with those keys.
    const mounts = (workerPod(objects).containers[0] as { volumeMounts: { name: string; mountPath: string }[] }).volumeMounts;
    const volumes = workerPod(objects).volumes ?? [];
    for (const variable of ['CARBON_TLS_CERT', 'CARBON_TLS_KEY', 'CARBON_TLS_CA', 'CARBON_TOKENS_FILE']) {
      const path = data[variable] ?? '';
      const mount = mounts.find((m) => path.startsWith(`${m.mountPath}/`));
      const secretName = volumes.find((v) => v.name === mount?.name)?.secret?.secretName ?? '';
      const file = path.slice((mount?.mountPath.length ?? 0) + 1);
      t.true(externalSecrets.get(secretName)?.includes(file) ?? false, `${variable}=${path} comes from a Secret key`);
    }
  });

  test(`${overlay}: Kafka topics, partitions, brokers, autoscaling and alerts agree`, (t) => {
    const objects = objectsOf(overlay);
    const data = configData(objects);
    const config = loadConfig(data);
    const topics = objects.filter((o) => o.kind === 'KafkaTopic');
    const spec = (o: K8sObject) => o.spec as { topicName: string; partitions: number; replicas: number; config: Record<string, string> };
    t.deepEqual(topics.map((o) => spec(o).topicName).sort(), allTopicNames(topicNames(config.kafka.topicPrefix)).sort());
    for (const topic of topics) t.is(spec(topic).partitions, config.kafka.topicPartitions, topic.metadata.name);
    const unowned = alerts.find((a) => a.alert === 'CarbonPartitionsUnowned');
    t.is(unowned?.expr, `sum by (namespace) (carbon_partitions_owned) < ${config.kafka.topicPartitions}`);
    const hpa = one(objects, 'HorizontalPodAutoscaler', 'carbon-worker').spec as { maxReplicas: number };
    t.true(hpa.maxReplicas * config.cluster.workers <= config.kafka.topicPartitions, 'no pod beyond one consumer per partition');
    // The Strimzi cluster that KAFKA_BROKERS points at manages the topics and is what the network policies open.
    const cluster = /^([\w-]+)-kafka-bootstrap\b/.exec(config.kafkaBrokers?.[0] ?? '')?.[1];
    t.truthy(cluster);
    for (const topic of topics) t.is(topic.metadata.labels?.['strimzi.io/cluster'], cluster, topic.metadata.name);
    const policyText = JSON.stringify(objects.filter((o) => o.kind === 'NetworkPolicy'));
    const named = [...policyText.matchAll(/"strimzi\.io\/cluster":"([\w-]+)"/g)].map((m) => m[1]);
    t.true(named.length >= 3);
    t.true(named.every((c) => c === cluster), named.join(', '));
    for (const topic of topics) {
      t.true(Number(spec(topic).config['min.insync.replicas']) <= spec(topic).replicas, topic.metadata.name);
    }
  });

  test(`${overlay}: the PrometheusRule carries exactly the rules of rules.yml, and dashboards their JSON files`, (t) => {
    const objects = objectsOf(overlay);
    t.deepEqual((one(objects, 'PrometheusRule', 'carbon-alerts').spec as { groups: unknown }).groups, rules.groups);
    for (const [file, text] of dashboardFiles()) {
      const name = `carbon-dashboard-${file.replace('.json', '')}`;
      const cm = one(objects, 'ConfigMap', name);
      t.is((cm.data as Record<string, string>)[file], text, name);
      t.is(cm.metadata.labels?.grafana_dashboard, '1', name);
    }
    // Operators name their scrape jobs as they like: no rule may select one.
    t.deepEqual(alerts.filter((a) => /\bjob\s*(=|!=|=~|!~)/.test(a.expr)).map((a) => a.alert), [], 'rules that select a scrape job');
    const monitor = one(objects, 'ServiceMonitor', 'carbon').spec as { selector: { matchLabels: Record<string, string> } };
    const scraped = objects.filter((o) => o.kind === 'Service' && Object.entries(monitor.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
    t.deepEqual(scraped.map((s) => s.metadata.name), ['carbon-metrics'], 'the ServiceMonitor scrapes the metrics Service');
  });
}

test('generated files are current: prometheus-rule.yaml and the dashboards', (t) => {
  t.is(readFileSync(prometheusRulePath, 'utf8'), currentPrometheusRuleYaml(), 'run npx tsx deploy/tools/build-prometheus-rule.ts');
  for (const [file, text] of dashboardFiles()) {
    t.is(readFileSync(join(grafanaDir, file), 'utf8'), text, `run npx tsx deploy/tools/build-dashboards.ts (${file})`);
  }
});

test('the deploy runbook creates every Secret the manifests expect, with every key', (t) => {
  const runbook = readFileSync(join(repoRoot, 'docs', 'operations', 'deploy-and-upgrade.md'), 'utf8');
  for (const [name, keys] of externalSecrets) {
    const command = runbook.split(/\n(?=kubectl )/).find((block) => block.startsWith(`kubectl create secret`) && block.includes(` ${name} `));
    t.truthy(command, `kubectl create secret ... ${name}`);
    for (const key of keys) t.true(command?.includes(`--from-file=${key}=`) || command?.includes(`--from-literal=${key}=`), `${name} key ${key}`);
  }
});

// --- Prometheus ---------------------------------------------------------------------------------------------------

test('promtool check rules accepts rules.yml', (t) => {
  const r = run('promtool', ['check', 'rules', rulesPath]);
  t.is(r.status, 0, r.output);
  t.regex(r.output, new RegExp(`SUCCESS: ${rules.groups.flatMap((g) => g.rules).length} rules found`));
});

test('promtool test rules passes, and every alert has a case where it fires and one where it does not', (t) => {
  const r = run('promtool', ['test', 'rules', 'rules.test.yml'], prometheusDir);
  t.is(r.status, 0, r.output);
  const unitTests = parse(readFileSync(join(prometheusDir, 'rules.test.yml'), 'utf8')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
  };
  const cases = unitTests.tests.flatMap((u) => u.alert_rule_test ?? []);
  for (const alert of alerts) {
    t.true(cases.some((c) => c.alertname === alert.alert && (c.exp_alerts ?? []).length > 0), `${alert.alert} fires in a test`);
    t.true(cases.some((c) => c.alertname === alert.alert && (c.exp_alerts ?? []).length === 0), `${alert.alert} stays quiet in a test`);
  }
});

test('every alert has a severity and a runbook that exists', (t) => {
  for (const alert of alerts) {
    t.true(['warning', 'critical'].includes(alert.labels?.severity ?? ''), `${alert.alert} severity`);
    const runbook = alert.annotations?.runbook ?? '';
    t.true(runbook !== '' && existsSync(join(repoRoot, runbook)), `${alert.alert} runbook ${runbook}`);
  }
});

test('alert rules name only catalogue metrics and labels, or additions requested of the platform', async (t) => {
  const catalogue = await catalogueSeries();
  for (const alert of alerts) t.deepEqual(checkQuery(alert.expr, catalogue, true), [], alert.alert);
  const pending = [...requested].filter(([metric, r]) => !r.labels.every((l) => catalogue.get(metric)?.labels.includes(l)));
  t.log(`requested of platform/metrics.ts and not there yet: ${pending.map(([m, r]) => `${m}{${r.labels.join(',')}}`).join('; ') || 'none'}`);
});

test('promtool check metrics finds nothing to lint in the catalogue exposition', async (t) => {
  // The catalogue as /metrics exposes it (names, types, help); the live check does the same on a running cluster.
  const exposition = await registry.metrics();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (r.error) throw r.error;
  t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  t.true(exposition.includes('# TYPE carbon_actor_restarts_total counter'));
});

// --- Grafana ------------------------------------------------------------------------------------------------------

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { expr: string; refId: string; datasource: { uid: string } }[];
}
const dashboardsJson = [...dashboardFiles().keys()].map((file) => ({
  file,
  json: JSON.parse(readFileSync(join(grafanaDir, file), 'utf8')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  },
}));

test('each dashboard panel queries only metrics of platform/metrics.ts, with their labels', async (t) => {
  const catalogue = await catalogueSeries();
  let queries = 0;
  for (const { file, json } of dashboardsJson) {
    for (const panel of json.panels) {
      t.true(panel.targets.length > 0, `${file}: ${panel.title} has a query`);
      for (const target of panel.targets) {
        queries += 1;
        for (const metric of promqlReferences(target.expr).metrics) t.true(catalogue.has(metric), `${file}: ${panel.title}: ${metric} is in the catalogue`);
        t.deepEqual(checkQuery(target.expr, catalogue, true), [], `${file}: ${panel.title}`);
      }
    }
    for (const variable of json.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      t.deepEqual(checkQuery(query, catalogue, false), [], `${file}: variable ${variable.name}`);
    }
  }
  t.true(queries >= 30, `${queries} queries`);
});

test('the metric check rejects unknown metrics and labels', async (t) => {
  const catalogue = await catalogueSeries();
  t.deepEqual(checkQuery('rate(carbon_restarts_total[5m])', catalogue, true), ['unknown metric carbon_restarts_total']);
  t.deepEqual(checkQuery('sum by (commodity) (carbon_mailbox_depth{topic="x"})', catalogue, true), [
    'carbon_mailbox_depth has no label topic',
    'no metric of the query has the label commodity it groups by',
  ]);
  t.deepEqual(checkQuery('histogram_quantile(0.9, sum by (le) (rate(carbon_inference_seconds_bucket[1m])))', catalogue, false), []);
  t.deepEqual(checkQuery('carbon_inference_seconds_total', catalogue, false), ['unknown metric carbon_inference_seconds_total']);
});

test('dashboards use the datasource variable everywhere, unique panel ids and no overlapping panels', (t) => {
  for (const { file, json } of dashboardsJson) {
    t.true(json.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'), file);
    const ids = json.panels.map((p) => p.id);
    t.is(new Set(ids).size, ids.length, `${file} panel ids`);
    for (const p of json.panels) {
      t.is(p.datasource.uid, '${datasource}', `${file}: ${p.title}`);
      for (const target of p.targets) t.is(target.datasource.uid, '${datasource}', `${file}: ${p.title} ${target.refId}`);
      t.true(p.gridPos.x + p.gridPos.w <= 24, `${file}: ${p.title} fits the grid`);
    }
    for (const [i, a] of json.panels.entries()) {
      for (const b of json.panels.slice(i + 1)) {
        const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
        t.false(overlap, `${file}: ${a.title} / ${b.title}`);
      }
    }
  }
});

test('the Supervision dashboard shows recovery time as a heatmap of its histogram buckets', (t) => {
  const supervision = dashboardsJson.find((d) => d.file === 'supervision.json')?.json;
  const heatmap = supervision?.panels.find((p) => p.type === 'heatmap');
  t.regex(heatmap?.targets[0]?.expr ?? '', /carbon_recovery_seconds_bucket/);
});

test('kubectl kustomize is the renderer (kustomize v5)', (t) => {
  const version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  t.regex(version, /Kustomize Version: v5\./);
});
