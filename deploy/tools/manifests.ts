/**
 * Checks of the rendered Kubernetes manifests, usable from tests and by hand
 * (`npx tsx deploy/tools/check-manifests.ts`):
 * - render: `kubectl kustomize <overlay>` (kustomize v5 as built into kubectl);
 * - schemas: every object through the validator of its kind from kubernetes-models (Kubernetes' OpenAPI schemas)
 *   or @kubernetes-models/prometheus-operator (the operator's CRDs), and KafkaTopic through strimzi-kafka-topic.ts;
 * - strict fields: the same objects as object literals type-checked by tsc against the kinds' TypeScript
 *   interfaces, which rejects unknown fields (the JSON schemas allow them, like kubeconform without -strict);
 * - cross-references: every ServiceAccount, ConfigMap, Secret (and key), volume, port and selector named exists,
 *   and every CARBON_* variable set is one the code reads (env-variables.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { unreadVariableProblems } from './env-variables.ts';
import { validatingPolicyProblems, type IValidatingPolicy } from './kyverno-validating-policy.ts';
import { kafkaTopicProblems, type IKafkaTopic } from './strimzi-kafka-topic.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const overlays = ['dev', 'prod'] as const;
export type Overlay = (typeof overlays)[number];

/** A rendered object; only the fields the checks read are typed. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/**
 * Secrets created out of band (never committed), with the keys the manifests may use; the deploy runbook gives
 * the command that creates each, and the test checks that it does.
 */
export const externalSecrets: ReadonlyMap<string, readonly string[]> = new Map([
  ['carbon-connections', ['database-url', 'redis-url']],
  ['carbon-tls', ['tls.crt', 'tls.key', 'ca.crt']],
  ['carbon-api-tokens', ['tokens.json']],
  ['carbon-trino-postgres', ['jdbc-url', 'user', 'password']],
]);

export function render(overlay: Overlay): K8sObject[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', join(repoRoot, 'deploy', 'k8s', 'overlays', overlay)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl kustomize ${overlay} failed (kubectl with kustomize v5 must be on the PATH): ${stderr || String(err)}`, { cause: err });
  }
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize output does not parse: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject;
  });
}

export const describe = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** Kinds without a namespace among those rendered (the admission policies govern every namespace they select). */
export const clusterScopedKinds: ReadonlySet<string> = new Set(['Namespace', 'ValidatingPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);

// ---------------------------------------------------------------------------------------------------------------
// Schemas

const prometheusOperatorGroup = 'monitoring.coreos.com/v1';

/** The module of the model classes of an apiVersion, or undefined when no package here has its schema. */
function modelModule(apiVersion: string): string | undefined {
  if (apiVersion === prometheusOperatorGroup) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  if (apiVersion === 'kafka.strimzi.io/v1beta2' || apiVersion === 'policies.kyverno.io/v1') return undefined;
  return `kubernetes-models/${apiVersion}`;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/**
 * kustomize's secretGenerator wraps base64 at 76 columns, which the schemas' "byte" format refuses but the API
 * server reads (Go's base64 decoder skips line breaks): validated as the API server sees it.
 */
function withUnwrappedSecretData(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || typeof o.data !== 'object' || o.data === null) return o;
  const data = Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\n/g, '')]));
  return { ...o, data };
}

/** Problems found by the JSON-schema validators of each object's kind. */
export async function schemaProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    if (o.apiVersion === 'kafka.strimzi.io/v1beta2' && o.kind === 'KafkaTopic') {
      problems.push(...kafkaTopicProblems(o as unknown as IKafkaTopic));
      continue;
    }
    if (o.apiVersion === 'policies.kyverno.io/v1' && o.kind === 'ValidatingPolicy') {
      problems.push(...validatingPolicyProblems(o as unknown as IValidatingPolicy));
      continue;
    }
    // One kind's module each: a group's index would load the validators of every kind in it.
    const module = modelModule(o.apiVersion);
    const models = module ? ((await import(`${module}/${o.kind}`).catch(() => ({}))) as Record<string, ModelClass | undefined>) : {};
    const Model = models[o.kind];
    if (!Model) {
      problems.push(`${describe(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(withUnwrappedSecretData(o)).validate();
    } catch (err) {
      problems.push(`${describe(o)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}

function typeImport(o: K8sObject): { from: string; name: string } | undefined {
  if (o.apiVersion === 'kafka.strimzi.io/v1beta2' && o.kind === 'KafkaTopic') {
    return { from: join(repoRoot, 'deploy', 'tools', 'strimzi-kafka-topic.ts'), name: 'IKafkaTopic' };
  }
  if (o.apiVersion === 'policies.kyverno.io/v1' && o.kind === 'ValidatingPolicy') {
    return { from: join(repoRoot, 'deploy', 'tools', 'kyverno-validating-policy.ts'), name: 'IValidatingPolicy' };
  }
  const module = modelModule(o.apiVersion);
  return module ? { from: `${module}/${o.kind}`, name: `I${o.kind}` } : undefined;
}

/**
 * Unknown or mistyped fields, found by tsc: each object becomes `export const oN = <object> satisfies I<Kind>;`,
 * and TypeScript's excess-property check rejects any field the kind's interface does not declare, at any depth.
 */
export function strictFieldProblems(objects: readonly K8sObject[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'carbon-manifests-'));
  try {
    const imports: string[] = [];
    const entries: { o: K8sObject; alias: string }[] = [];
    const problems: string[] = [];
    const typeNames = new Map<string, string>();
    for (const o of objects) {
      const t = typeImport(o);
      if (!t) {
        problems.push(`${describe(o)}: no type for ${o.apiVersion} ${o.kind}`);
        continue;
      }
      const key = `${t.from}#${t.name}`;
      let alias = typeNames.get(key);
      if (!alias) {
        alias = `T${typeNames.size}`;
        typeNames.set(key, alias);
        imports.push(`import type { ${t.name} as ${alias} } from ${JSON.stringify(t.from)};`);
      }
      entries.push({ o, alias });
    }
    // One object a line, after the imports: an error's line number says which object it is about.
    const source = [...imports, ...entries.map((e, i) => `export const o${i} = ${JSON.stringify(e.o)} satisfies ${e.alias};`)];
    const objectAtLine = (line: number) => entries[line - imports.length - 1]?.o;
    writeFileSync(join(dir, 'objects.ts'), `${source.join('\n')}\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          module: 'esnext',
          moduleResolution: 'bundler',
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: [],
          baseUrl: '.',
          paths: { '*': [join(repoRoot, 'node_modules', '*')] },
        },
        files: ['objects.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (tsc.error) throw tsc.error;
    // tsc reports the first wrong field of each object; fixing it shows the next.
    for (const line of tsc.stdout.split('\n')) {
      const m = /^objects\.ts\((\d+),\d+\): error (TS\d+: .*)$/.exec(line.trim());
      if (!m) continue;
      const o = objectAtLine(Number(m[1]));
      problems.push(`${o ? describe(o) : `line ${m[1]}`}: ${m[2]}`);
    }
    if (tsc.status !== 0 && problems.length === 0) problems.push(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-references

interface Port { name?: string; containerPort: number }
interface Probe { grpc?: { port: number; service?: string }; httpGet?: { port: number | string }; tcpSocket?: { port: number | string }; exec?: { command: string[] } }
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports?: Port[];
  env?: { name: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
}
interface Volume { name: string; secret?: { secretName: string; items?: { key: string }[] }; configMap?: { name: string; items?: { key: string }[] } }
export interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}
interface LabelSelector { matchLabels?: Record<string, string> }

/** A pod template and the workload that owns it. */
export interface PodTemplate {
  readonly owner: K8sObject;
  readonly labels: Record<string, string>;
  readonly spec: PodSpec;
}

export function podTemplates(objects: readonly K8sObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    interface Template { metadata?: { labels?: Record<string, string> }; spec: PodSpec }
    const spec = o.spec as { template?: Template; jobTemplate?: { spec?: { template?: Template } } } | undefined;
    const template = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind)
      ? spec?.template
      : o.kind === 'CronJob'
        ? spec?.jobTemplate?.spec?.template
        : undefined;
    if (template) out.push({ owner: o, labels: template.metadata?.labels ?? {}, spec: template.spec });
  }
  return out;
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function containerPorts(spec: PodSpec): Port[] {
  return spec.containers.flatMap((c) => c.ports ?? []);
}

/** Every name that an object uses and that must exist among `objects` (or the external Secrets). */
export function crossReferenceProblems(objects: readonly K8sObject[], secrets = externalSecrets): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const configMapKeys = (name: string): string[] | undefined => {
    const cm = find('ConfigMap', name);
    return cm ? Object.keys({ ...(cm.data as object | undefined), ...(cm.binaryData as object | undefined) }) : undefined;
  };
  const secretKeys = (name: string): readonly string[] | undefined => {
    const s = find('Secret', name);
    return s ? Object.keys({ ...(s.data as object | undefined), ...(s.stringData as object | undefined) }) : secrets.get(name);
  };
  const needConfigMap = (where: string, name: string, key?: string) => {
    const keys = configMapKeys(name);
    if (!keys) problems.push(`${where}: ConfigMap ${name} does not exist`);
    else if (key !== undefined && !keys.includes(key)) problems.push(`${where}: ConfigMap ${name} has no key ${key}`);
  };
  const needSecret = (where: string, name: string, key?: string) => {
    const keys = secretKeys(name);
    if (!keys) problems.push(`${where}: Secret ${name} is neither rendered nor one of the external Secrets`);
    else if (key !== undefined && !keys.includes(key)) problems.push(`${where}: Secret ${name} has no key ${key}`);
  };

  // Duplicates and namespaces.
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion} ${describe(o)}`;
    if (seen.has(id)) problems.push(`${describe(o)}: defined twice`);
    seen.add(id);
  }
  const namespaces = byKind('Namespace').map((n) => n.metadata.name);
  for (const o of objects) {
    if (clusterScopedKinds.has(o.kind)) {
      if (o.metadata.namespace) problems.push(`${describe(o)}: cluster-scoped, yet given namespace ${o.metadata.namespace}`);
      continue;
    }
    if (!o.metadata.namespace) problems.push(`${describe(o)}: no namespace`);
    else if (!namespaces.includes(o.metadata.namespace)) problems.push(`${describe(o)}: namespace ${o.metadata.namespace} is not rendered`);
  }

  // Pods: service accounts, config, secrets, volumes, probes.
  for (const pod of podTemplates(objects)) {
    const where = describe(pod.owner);
    const sa = pod.spec.serviceAccountName;
    if (!sa) problems.push(`${where}: no serviceAccountName (would run as the namespace's default)`);
    else if (!find('ServiceAccount', sa)) problems.push(`${where}: ServiceAccount ${sa} does not exist`);
    const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.secret) {
        needSecret(`${where} volume ${v.name}`, v.secret.secretName);
        for (const item of v.secret.items ?? []) needSecret(`${where} volume ${v.name}`, v.secret.secretName, item.key);
      }
      if (v.configMap) {
        needConfigMap(`${where} volume ${v.name}`, v.configMap.name);
        for (const item of v.configMap.items ?? []) needConfigMap(`${where} volume ${v.name}`, v.configMap.name, item.key);
      }
    }
    for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
      const cw = `${where} container ${c.name}`;
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) needConfigMap(cw, from.configMapRef.name);
        if (from.secretRef) needSecret(cw, from.secretRef.name);
      }
      for (const e of c.env ?? []) {
        const cmRef = e.valueFrom?.configMapKeyRef;
        const sRef = e.valueFrom?.secretKeyRef;
        if (cmRef) needConfigMap(`${cw} env ${e.name}`, cmRef.name, cmRef.key);
        if (sRef) needSecret(`${cw} env ${e.name}`, sRef.name, sRef.key);
      }
      // $(VAR) in command and args is expanded from the container's environment only: the variable must be set.
      const envNames = new Set([
        ...(c.env ?? []).map((e) => e.name),
        ...(c.envFrom ?? []).flatMap((f) => (f.configMapRef ? configMapKeys(f.configMapRef.name) ?? [] : [])),
      ]);
      for (const word of [...(c.command ?? []), ...(c.args ?? [])]) {
        for (const m of word.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (m[1] && !envNames.has(m[1])) problems.push(`${cw}: $(${m[1]}) in its command is not in its environment`);
        }
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) problems.push(`${cw}: mounts volume ${m.name}, which the pod does not declare`);
      }
      const ports = c.ports ?? [];
      for (const [kind, probe] of [['readiness', c.readinessProbe], ['liveness', c.livenessProbe], ['startup', c.startupProbe]] as const) {
        // A command probe names no port.
        if (!probe || probe.exec) continue;
        const port = probe.grpc?.port ?? probe.httpGet?.port ?? probe.tcpSocket?.port;
        const known = typeof port === 'number' ? ports.some((p) => p.containerPort === port) : ports.some((p) => p.name === port);
        if (!known) problems.push(`${cw}: ${kind} probe port ${String(port)} is not a container port`);
      }
    }
  }

  // Settings: a variable no code reads is a typo or a setting that is gone.
  problems.push(...unreadVariableProblems(objects, repoRoot));

  // Services select pods and target their ports; monitors select services and name their ports.
  const templates = podTemplates(objects);
  for (const svc of byKind('Service')) {
    const spec = svc.spec as { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string }[] };
    const pods = templates.filter((p) => selects(spec.selector, p.labels));
    if (pods.length === 0) {
      problems.push(`${describe(svc)}: selector matches no pod template`);
      continue;
    }
    for (const port of spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const ok = pods.every((p) => containerPorts(p.spec).some((cp) => (typeof target === 'number' ? cp.containerPort === target : cp.name === target)));
      if (!ok) problems.push(`${describe(svc)}: targetPort ${String(target)} is not a port of every selected pod`);
    }
  }
  for (const sm of byKind('ServiceMonitor')) {
    const spec = sm.spec as { selector?: LabelSelector; endpoints?: { port?: string }[] };
    const services = byKind('Service').filter((s) => selects(spec.selector?.matchLabels, s.metadata.labels));
    if (services.length === 0) problems.push(`${describe(sm)}: selector matches no Service`);
    for (const ep of spec.endpoints ?? []) {
      const ok = services.length > 0 && services.every((s) => ((s.spec as { ports?: { name?: string }[] }).ports ?? []).some((p) => p.name === ep.port));
      if (!ok) problems.push(`${describe(sm)}: endpoint port ${String(ep.port)} is not a named port of the selected Services`);
    }
  }

  // Budgets, autoscalers, bindings.
  for (const pdb of byKind('PodDisruptionBudget')) {
    const selector = (pdb.spec as { selector?: LabelSelector }).selector?.matchLabels;
    if (!templates.some((p) => p.owner.kind === 'Deployment' && selects(selector, p.labels))) problems.push(`${describe(pdb)}: selector matches no Deployment's pods`);
  }
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const spec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
    const target = find(spec.scaleTargetRef.kind, spec.scaleTargetRef.name);
    if (!target) problems.push(`${describe(hpa)}: scale target ${spec.scaleTargetRef.kind}/${spec.scaleTargetRef.name} does not exist`);
    const replicas = (target?.spec as { replicas?: number } | undefined)?.replicas;
    if (replicas !== undefined && (replicas < (spec.minReplicas ?? 1) || replicas > spec.maxReplicas)) {
      problems.push(`${describe(hpa)}: ${spec.scaleTargetRef.name} has ${replicas} replicas, outside [${spec.minReplicas ?? 1}, ${spec.maxReplicas}]`);
    }
  }
  for (const rb of byKind('RoleBinding')) {
    const { roleRef, subjects = [] } = rb as unknown as { roleRef: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[] };
    if (roleRef.kind === 'Role' && !find('Role', roleRef.name)) problems.push(`${describe(rb)}: Role ${roleRef.name} does not exist`);
    for (const s of subjects) {
      const local = s.namespace === undefined || s.namespace === rb.metadata.namespace;
      if (s.kind === 'ServiceAccount' && local && !find('ServiceAccount', s.name)) problems.push(`${describe(rb)}: ServiceAccount ${s.name} does not exist`);
    }
  }

  // Network policies: named ports exist on the pods they select; every pod is under a default deny and has a policy of its own.
  const policies = byKind('NetworkPolicy').map((np) => ({
    np,
    spec: np.spec as {
      podSelector: LabelSelector;
      policyTypes?: string[];
      ingress?: { ports?: { port?: number | string }[] }[];
    },
  }));
  for (const { np, spec } of policies) {
    const pods = templates.filter((p) => selects(spec.podSelector.matchLabels ?? {}, p.labels));
    if (pods.length === 0) problems.push(`${describe(np)}: podSelector matches no pod template`);
    for (const rule of spec.ingress ?? []) {
      for (const port of rule.ports ?? []) {
        if (typeof port.port !== 'string') continue;
        if (!pods.every((p) => containerPorts(p.spec).some((cp) => cp.name === port.port))) {
          problems.push(`${describe(np)}: ingress port ${port.port} is not a named port of every selected pod`);
        }
      }
    }
  }
  const isDefaultDeny = (s: (typeof policies)[number]['spec']) =>
    Object.keys(s.podSelector.matchLabels ?? {}).length === 0 &&
    (s.policyTypes ?? []).includes('Ingress') && (s.policyTypes ?? []).includes('Egress') &&
    !('ingress' in s && (s.ingress ?? []).length > 0) && !('egress' in s && ((s as { egress?: unknown[] }).egress ?? []).length > 0);
  if (!policies.some((p) => isDefaultDeny(p.spec))) problems.push('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');
  for (const pod of templates) {
    const own = policies.filter((p) => Object.keys(p.spec.podSelector.matchLabels ?? {}).length > 0 && selects(p.spec.podSelector.matchLabels, pod.labels));
    if (own.length === 0) problems.push(`${describe(pod.owner)}: no NetworkPolicy of its own, so default deny leaves it DNS only`);
  }
  return problems;
}
