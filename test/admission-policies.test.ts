/**
 * The admission policies of deploy/k8s/policies/, evaluated with a real CEL evaluator (@bufbuild/cel) as Kyverno
 * and the API server would: every object of every rendered overlay is admitted by both engines, and a violation
 * of each rule is refused by both, each with that rule's message. Needs `kubectl` (kustomize) on the PATH.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { admit, isAdmissionPolicy, overlayRefusals, type AdmissionRequest, type Refusal } from '../deploy/tools/admission-check.ts';
import { admissionPolicyFiles, admissionRules, policiesDir } from '../deploy/tools/admission-policies.ts';
import { overlays, render, type K8sObject, type Overlay } from '../deploy/tools/manifests.ts';

const rendered = new Map<Overlay, K8sObject[]>(overlays.map((o) => [o, render(o)]));
const prod = rendered.get('prod') ?? [];
const policies = prod.filter(isAdmissionPolicy);

const one = (objects: readonly K8sObject[], kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} is not rendered`);
  return o;
};

interface Container {
  image: string;
  env: { name: string; value?: string; valueFrom?: unknown }[];
  ports: { containerPort: number; hostPort?: number }[];
  securityContext: Record<string, unknown> & { capabilities: { drop?: string[]; add?: string[] } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
interface WorkerShape {
  metadata: { labels: Record<string, string> };
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { securityContext: Record<string, unknown>; containers: Container[]; volumes: Record<string, unknown>[] } & Record<string, unknown>;
    };
  };
}

/** A CREATE of the prod worker Deployment after `change`. */
function workerWith(change: (w: WorkerShape) => void): AdmissionRequest {
  const worker = structuredClone(one(prod, 'Deployment', 'carbon-worker')) as unknown as WorkerShape;
  change(worker);
  return { operation: 'CREATE', object: worker as unknown as K8sObject, oldObject: null };
}
const container = (w: WorkerShape): Container => w.spec.template.spec.containers[0] as Container;

interface Violation {
  readonly rule: string;
  readonly what: string;
  readonly request: AdmissionRequest;
  /** The cluster's content when it is not the rendered overlay. */
  readonly cluster?: readonly K8sObject[];
  /** Which message each engine answers, when the VAP's differs (the API server's own, for a missing parameter). */
  readonly vapMessage?: string;
}

const messageOf = (rule: string, index = 0): string => {
  const r = admissionRules.find((x) => x.name === rule);
  if (!r) throw new Error(`no rule ${rule}`);
  return r.lookup?.message ?? r.validations[index]?.message ?? '';
};

const defaultDeny = one(prod, 'NetworkPolicy', 'default-deny-all');
const weakened = structuredClone(defaultDeny) as K8sObject & { spec: Record<string, unknown> };
weakened.spec.ingress = [{}];

const violations: readonly (Violation & { message?: string })[] = [
  { rule: 'run-as-non-root', what: 'no runAsNonRoot anywhere', request: workerWith((w) => { delete w.spec.template.spec.securityContext.runAsNonRoot; delete container(w).securityContext.runAsNonRoot; }) },
  { rule: 'run-as-non-root', what: 'a container overriding the pod with runAsNonRoot false', request: workerWith((w) => { container(w).securityContext.runAsNonRoot = false; }) },
  { rule: 'run-as-non-root', what: 'runAsUser 0', message: messageOf('run-as-non-root', 1), request: workerWith((w) => { container(w).securityContext.runAsUser = 0; }) },
  { rule: 'no-privilege-escalation', what: 'allowPrivilegeEscalation true', request: workerWith((w) => { container(w).securityContext.allowPrivilegeEscalation = true; }) },
  { rule: 'no-privilege-escalation', what: 'a privileged container', request: workerWith((w) => { container(w).securityContext.privileged = true; }) },
  { rule: 'read-only-root-filesystem', what: 'a writable root filesystem', request: workerWith((w) => { delete container(w).securityContext.readOnlyRootFilesystem; }) },
  { rule: 'drop-all-capabilities', what: 'dropping NET_RAW only', request: workerWith((w) => { container(w).securityContext.capabilities = { drop: ['NET_RAW'] }; }) },
  { rule: 'drop-all-capabilities', what: 'adding NET_ADMIN back', request: workerWith((w) => { container(w).securityContext.capabilities.add = ['NET_ADMIN']; }) },
  { rule: 'seccomp-runtime-default', what: 'the pod Unconfined', request: workerWith((w) => { w.spec.template.spec.securityContext.seccompProfile = { type: 'Unconfined' }; }) },
  { rule: 'seccomp-runtime-default', what: 'a container Unconfined under a RuntimeDefault pod', request: workerWith((w) => { container(w).securityContext.seccompProfile = { type: 'Unconfined' }; }) },
  { rule: 'resources-requests-and-limits', what: 'no memory limit', request: workerWith((w) => { delete container(w).resources.limits.memory; }) },
  { rule: 'resources-requests-and-limits', what: 'no requests', request: workerWith((w) => { delete (container(w).resources as Partial<Container['resources']>).requests; }) },
  { rule: 'pinned-images', what: 'the latest tag', request: workerWith((w) => { container(w).image = '254carbon/carbon:latest'; }) },
  { rule: 'pinned-images', what: 'no tag', request: workerWith((w) => { container(w).image = 'registry.example:5000/254carbon/carbon'; }) },
  { rule: 'standard-labels', what: 'no app.kubernetes.io/instance on the Deployment', request: workerWith((w) => { delete w.metadata.labels['app.kubernetes.io/instance']; }) },
  { rule: 'standard-labels', what: 'no app.kubernetes.io/component on the pod template', message: messageOf('standard-labels', 1), request: workerWith((w) => { delete w.spec.template.metadata.labels['app.kubernetes.io/component']; }) },
  { rule: 'no-host-access', what: 'hostNetwork', request: workerWith((w) => { w.spec.template.spec.hostNetwork = true; }) },
  { rule: 'no-host-access', what: 'hostPID', request: workerWith((w) => { w.spec.template.spec.hostPID = true; }) },
  { rule: 'no-host-access', what: 'a hostPath volume', message: messageOf('no-host-access', 1), request: workerWith((w) => { w.spec.template.spec.volumes.push({ name: 'host', hostPath: { path: '/var/run' } }); }) },
  { rule: 'no-host-access', what: 'a hostPort', message: messageOf('no-host-access', 2), request: workerWith((w) => { container(w).ports[0]!.hostPort = 50051; }) },
  { rule: 'secrets-from-secret-references', what: 'DATABASE_URL written in the manifest', request: workerWith((w) => { container(w).env[0] = { name: 'DATABASE_URL', value: 'postgres://carbon:hunter2@postgres/carbon' }; }) },
  { rule: 'secrets-from-secret-references', what: 'an API token from a ConfigMap', request: workerWith((w) => { container(w).env.push({ name: 'PRICE_API_TOKEN', valueFrom: { configMapKeyRef: { name: 'carbon-config', key: 'token' } } }); }) },
  {
    rule: 'no-credentials-in-configmaps',
    what: 'a ConfigMap with a database-url key',
    request: { operation: 'UPDATE', object: { ...one(prod, 'ConfigMap', 'carbon-config'), data: { ...(one(prod, 'ConfigMap', 'carbon-config').data as object), 'database-url': 'postgres://carbon:hunter2@postgres/carbon' } }, oldObject: one(prod, 'ConfigMap', 'carbon-config') },
  },
  { rule: 'default-deny-kept', what: 'default-deny-all given an allow-all ingress rule', request: { operation: 'UPDATE', object: weakened, oldObject: defaultDeny } },
  { rule: 'default-deny-kept', what: 'default-deny-all deleted', request: { operation: 'DELETE', object: null, oldObject: defaultDeny } },
  {
    rule: 'default-deny-present',
    what: 'a workload in a namespace without default-deny-all',
    request: workerWith(() => undefined),
    cluster: prod.filter((o) => o !== defaultDeny),
    vapMessage: 'no params found for policy binding carbon-default-deny-present with Deny parameterNotFoundAction (NetworkPolicy default-deny-all in carbon)',
  },
  { rule: 'default-deny-present', what: 'a workload in a namespace whose default-deny-all allows ingress', request: workerWith(() => undefined), cluster: prod.map((o) => (o === defaultDeny ? weakened : o)) },
];

test('the files of deploy/k8s/policies are what build-admission-policies.ts writes', (t) => {
  for (const [file, text] of admissionPolicyFiles()) t.is(readFileSync(join(policiesDir, file), 'utf8'), text, `run npx tsx deploy/tools/build-admission-policies.ts (${file})`);
});

for (const overlay of overlays) {
  test(`${overlay}: renders each rule for both engines, and admits every one of its objects`, (t) => {
    const objects = rendered.get(overlay) ?? [];
    for (const kind of ['ValidatingPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']) {
      t.deepEqual(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort(), admissionRules.map((r) => `carbon-${r.name}`).sort(), kind);
    }
    t.deepEqual(overlayRefusals(objects), []);
    t.true(objects.filter((o) => ['Deployment', 'CronJob', 'ConfigMap', 'NetworkPolicy'].includes(o.kind)).length >= 10);
  });
}

test('both engines carry the same validations and messages', (t) => {
  const byName = (kind: string) => new Map(policies.filter((p) => p.kind === kind).map((p) => [p.metadata.name, p.spec as { validations: { expression: string; message: string }[]; matchConstraints: unknown; variables?: unknown; matchConditions?: unknown }]));
  const kyverno = byName('ValidatingPolicy');
  const vap = byName('ValidatingAdmissionPolicy');
  for (const rule of admissionRules) {
    const name = `carbon-${rule.name}`;
    const k = kyverno.get(name);
    const v = vap.get(name);
    t.deepEqual(k?.validations.map((x) => x.message), v?.validations.map((x) => x.message), name);
    if (!rule.lookup) t.deepEqual(k?.validations, v?.validations, name);
    t.deepEqual(k?.matchConstraints, v?.matchConstraints, name);
    t.deepEqual(k?.variables, v?.variables, name);
    t.deepEqual(k?.matchConditions, v?.matchConditions, name);
  }
});

test('every rule is broken by at least one case below', (t) => {
  t.deepEqual([...new Set(violations.map((v) => v.rule))].sort(), admissionRules.map((r) => r.name).sort());
});

for (const v of violations) {
  test(`refused by both engines, with the rule's message: ${v.rule}: ${v.what}`, (t) => {
    const refusals = admit(policies, v.request, v.cluster ?? prod);
    const expected = v.message ?? messageOf(v.rule);
    const of = (engine: Refusal['engine']) => refusals.filter((r) => r.engine === engine);
    t.deepEqual(of('kyverno'), [{ engine: 'kyverno', policy: `carbon-${v.rule}`, message: expected }]);
    t.deepEqual(of('vap'), [{ engine: 'vap', policy: `carbon-${v.rule}`, message: v.vapMessage ?? expected }]);
  });
}

test('a pod made by the Deployment (owned, its template labels only) and an image pinned by digest are admitted', (t) => {
  const worker = one(prod, 'Deployment', 'carbon-worker') as unknown as WorkerShape;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'carbon-worker-5d8f7-abcde',
      namespace: 'carbon',
      labels: { ...worker.spec.template.metadata.labels, 'pod-template-hash': '5d8f7' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'carbon-worker-5d8f7', uid: 'x', controller: true }],
    },
    spec: structuredClone(worker.spec.template.spec),
  } as unknown as K8sObject;
  t.deepEqual(admit(policies, { operation: 'CREATE', object: pod, oldObject: null }, prod), []);
  const digest = workerWith((w) => { container(w).image = `254carbon/carbon@sha256:${'a'.repeat(64)}`; });
  t.deepEqual(admit(policies, digest, prod), []);
});
