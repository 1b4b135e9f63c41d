/**
 * The admission policies of deploy/k8s/policies/, as data: each rule once, written out twice by
 * build-admission-policies.ts, as a Kyverno ValidatingPolicy (policies.kyverno.io/v1) and as a Kubernetes
 * ValidatingAdmissionPolicy with its binding (for clusters without Kyverno). Both engines evaluate the same CEL
 * expressions with the same messages; only the default-deny check reads the namespace's NetworkPolicies in two
 * ways (Kyverno's resource library; a VAP parameter). admission-check.ts evaluates them with a real CEL evaluator.
 *
 * The expressions stay inside what both engines and @bufbuild/cel parse: no optional field syntax (`a.?b`), so
 * absent fields are guarded with has(); `upperAscii()` is the strings extension that Kubernetes' CEL and
 * Kyverno's both carry.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot, type K8sObject } from './manifests.ts';

/** Where a rule applies: pod-bearing workloads, ConfigMaps, or NetworkPolicies. */
export type RuleTarget = 'workloads' | 'configmaps' | 'networkpolicies';

export interface AdmissionValidation {
  readonly expression: string;
  /** What the API server answers when the expression is false: says what is wrong and what to do. */
  readonly message: string;
}

export interface AdmissionRule {
  /** Policy name suffix: `carbon-<name>`. */
  readonly name: string;
  /** One line for the generated file's comment. */
  readonly why: string;
  readonly target: RuleTarget;
  /** DELETE too (a rule that protects an object from removal). */
  readonly onDelete?: boolean;
  /** Only objects for which this is true (a CEL match condition). */
  readonly matchCondition?: string;
  readonly validations: readonly AdmissionValidation[];
  /**
   * For the rule that needs another object of the namespace: Kyverno's expression (resource library) and the
   * VAP's (over `params`, the object named by the binding's paramRef) replace `validations`.
   */
  readonly lookup?: {
    readonly kyverno: string;
    readonly vap: string;
    readonly message: string;
    readonly param: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  };
}

/** The namespaces the policies govern: those of the platform (each overlay's namespace carries the label). */
export const governedNamespaceLabel = { key: 'app.kubernetes.io/part-of', value: '254carbon' } as const;

export const workloadResources = [
  { apiGroup: '', resource: 'pods', kind: 'Pod' },
  { apiGroup: 'apps', resource: 'deployments', kind: 'Deployment' },
  { apiGroup: 'apps', resource: 'statefulsets', kind: 'StatefulSet' },
  { apiGroup: 'apps', resource: 'daemonsets', kind: 'DaemonSet' },
  { apiGroup: 'apps', resource: 'replicasets', kind: 'ReplicaSet' },
  { apiGroup: 'batch', resource: 'jobs', kind: 'Job' },
  { apiGroup: 'batch', resource: 'cronjobs', kind: 'CronJob' },
] as const;

export const targetResources: Record<RuleTarget, readonly { apiGroup: string; resource: string; kind: string }[]> = {
  workloads: workloadResources,
  configmaps: [{ apiGroup: '', resource: 'configmaps', kind: 'ConfigMap' }],
  networkpolicies: [{ apiGroup: 'networking.k8s.io', resource: 'networkpolicies', kind: 'NetworkPolicy' }],
};

/**
 * Variables of the workload rules: the pod template whatever the kind, and every container of it (init and
 * ephemeral ones included: they run with the same privileges).
 */
export const workloadVariables: readonly { name: string; expression: string }[] = [
  {
    name: 'template',
    expression:
      "object.kind == 'Pod' ? object : object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template : object.spec.template",
  },
  { name: 'pod', expression: 'variables.template.spec' },
  {
    name: 'containers',
    expression:
      'variables.pod.containers + (has(variables.pod.initContainers) ? variables.pod.initContainers : []) + (has(variables.pod.ephemeralContainers) ? variables.pod.ephemeralContainers : [])',
  },
];

/** The CEL of "this NetworkPolicy denies all ingress and egress of every pod of its namespace". */
const isDefaultDeny = (np: string) =>
  `(!has(${np}.spec.podSelector.matchLabels) || size(${np}.spec.podSelector.matchLabels) == 0) && ` +
  `(!has(${np}.spec.podSelector.matchExpressions) || size(${np}.spec.podSelector.matchExpressions) == 0) && ` +
  `has(${np}.spec.policyTypes) && 'Ingress' in ${np}.spec.policyTypes && 'Egress' in ${np}.spec.policyTypes && ` +
  `(!has(${np}.spec.ingress) || size(${np}.spec.ingress) == 0) && (!has(${np}.spec.egress) || size(${np}.spec.egress) == 0)`;

/** Names that hold credentials, matched on the upper-cased name (env variables, ConfigMap keys). */
const secretName = "'(PASSWORD|PASSWD|SECRET|TOKEN|API[-_]?KEY|PRIVATE[-_]?KEY|CREDENTIALS?|DATABASE[-_]URL|REDIS[-_]URL)$'";

const securityContextIs = (c: string, field: string, value: string) =>
  `has(${c}.securityContext) && has(${c}.securityContext.${field}) && ${c}.securityContext.${field} == ${value}`;

export const admissionRules: readonly AdmissionRule[] = [
  {
    name: 'run-as-non-root',
    why: 'a process that is root in its container is one kernel bug away from root on the node',
    target: 'workloads',
    validations: [
      {
        expression:
          `variables.containers.all(c, ${securityContextIs('c', 'runAsNonRoot', 'true')} || ` +
          `(${securityContextIs('variables.pod', 'runAsNonRoot', 'true')} && !(${securityContextIs('c', 'runAsNonRoot', 'false')})))`,
        message: 'every container must run as non-root: set securityContext.runAsNonRoot: true on the pod or the container',
      },
      {
        expression:
          `!(${securityContextIs('variables.pod', 'runAsUser', '0')}) && variables.containers.all(c, !(${securityContextIs('c', 'runAsUser', '0')}))`,
        message: 'runAsUser 0 is root: use a non-zero user id',
      },
    ],
  },
  {
    name: 'no-privilege-escalation',
    why: 'setuid binaries and privileged containers undo every other restriction',
    target: 'workloads',
    validations: [
      {
        expression: `variables.containers.all(c, ${securityContextIs('c', 'allowPrivilegeEscalation', 'false')} && !(${securityContextIs('c', 'privileged', 'true')}))`,
        message: 'every container must set securityContext.allowPrivilegeEscalation: false and must not be privileged',
      },
    ],
  },
  {
    name: 'read-only-root-filesystem',
    why: 'a writable image is where an intruder keeps its tools; scratch space is an emptyDir',
    target: 'workloads',
    validations: [
      {
        expression: `variables.containers.all(c, ${securityContextIs('c', 'readOnlyRootFilesystem', 'true')})`,
        message: 'every container must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it writes)',
      },
    ],
  },
  {
    name: 'drop-all-capabilities',
    why: 'the platform needs no Linux capability',
    target: 'workloads',
    validations: [
      {
        expression:
          "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop && " +
          '(!has(c.securityContext.capabilities.add) || size(c.securityContext.capabilities.add) == 0))',
        message: 'every container must drop all capabilities (securityContext.capabilities.drop: [ALL]) and add none',
      },
    ],
  },
  {
    name: 'seccomp-runtime-default',
    why: "the container runtime's default seccomp profile blocks the system calls a service never needs",
    target: 'workloads',
    validations: [
      {
        expression:
          "variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.seccompProfile)) ? c.securityContext.seccompProfile.type == 'RuntimeDefault' : " +
          "(has(variables.pod.securityContext) && has(variables.pod.securityContext.seccompProfile) && variables.pod.securityContext.seccompProfile.type == 'RuntimeDefault'))",
        message: 'every container must run under the RuntimeDefault seccomp profile: set securityContext.seccompProfile.type: RuntimeDefault on the pod',
      },
    ],
  },
  {
    name: 'resources-requests-and-limits',
    why: 'the scheduler places pods by their requests, and limits keep one pod from starving its node',
    target: 'workloads',
    validations: [
      {
        expression:
          "variables.containers.all(c, has(c.resources) && has(c.resources.requests) && has(c.resources.limits) && 'cpu' in c.resources.requests && 'memory' in c.resources.requests && 'cpu' in c.resources.limits && 'memory' in c.resources.limits)",
        message: 'every container must set resources.requests and resources.limits for both cpu and memory',
      },
    ],
  },
  {
    name: 'pinned-images',
    why: 'a moving tag makes a rollback or a restart run code nobody reviewed',
    target: 'workloads',
    validations: [
      {
        expression:
          "variables.containers.all(c, c.image.matches('@sha256:[0-9a-f]{64}$') || (c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$') && !c.image.endsWith(':latest')))",
        message: 'every image must be pinned by a tag other than latest, or by digest (image:1.2.3 or image@sha256:...)',
      },
    ],
  },
  {
    name: 'standard-labels',
    why: 'dashboards, network policies and on-call find things by the app.kubernetes.io labels',
    target: 'workloads',
    validations: [
      {
        // Pods, ReplicaSets and Jobs made by a controller carry their template's labels only.
        expression:
          "has(object.metadata.labels) && ['app.kubernetes.io/name', 'app.kubernetes.io/component'].all(k, k in object.metadata.labels) && " +
          "((has(object.metadata.ownerReferences) && size(object.metadata.ownerReferences) > 0) || ['app.kubernetes.io/part-of', 'app.kubernetes.io/instance'].all(k, k in object.metadata.labels))",
        message: 'a workload must carry the labels app.kubernetes.io/name, app.kubernetes.io/component, app.kubernetes.io/part-of and app.kubernetes.io/instance',
      },
      {
        expression:
          "has(variables.template.metadata) && has(variables.template.metadata.labels) && ['app.kubernetes.io/name', 'app.kubernetes.io/component'].all(k, k in variables.template.metadata.labels)",
        message: 'a pod template must carry the labels app.kubernetes.io/name and app.kubernetes.io/component',
      },
    ],
  },
  {
    name: 'no-host-access',
    why: "the node's network, processes, IPC and files belong to the node",
    target: 'workloads',
    validations: [
      {
        expression:
          '!(has(variables.pod.hostNetwork) && variables.pod.hostNetwork) && !(has(variables.pod.hostPID) && variables.pod.hostPID) && !(has(variables.pod.hostIPC) && variables.pod.hostIPC)',
        message: 'hostNetwork, hostPID and hostIPC must be false',
      },
      {
        expression: '!has(variables.pod.volumes) || variables.pod.volumes.all(v, !has(v.hostPath))',
        message: 'hostPath volumes are not allowed: use an emptyDir, a Secret, a ConfigMap or a PersistentVolumeClaim',
      },
      {
        expression: 'variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))',
        message: 'hostPort is not allowed: expose ports through a Service',
      },
    ],
  },
  {
    name: 'secrets-from-secret-references',
    why: 'a credential in a manifest or a ConfigMap is readable by everyone who can read the namespace or the repository',
    target: 'workloads',
    validations: [
      {
        expression:
          `variables.containers.all(c, !has(c.env) || c.env.all(e, !e.name.upperAscii().matches(${secretName}) || (has(e.valueFrom) && has(e.valueFrom.secretKeyRef))))`,
        message: 'a variable named like a credential (PASSWORD, SECRET, TOKEN, API_KEY, DATABASE_URL, ...) must come from valueFrom.secretKeyRef',
      },
    ],
  },
  {
    name: 'no-credentials-in-configmaps',
    why: 'same rule, seen from the ConfigMap',
    target: 'configmaps',
    validations: [
      {
        expression: `!has(object.data) || object.data.all(k, !k.upperAscii().matches(${secretName}))`,
        message: 'a ConfigMap must not hold a key named like a credential (PASSWORD, SECRET, TOKEN, API_KEY, DATABASE_URL, ...): put it in a Secret',
      },
    ],
  },
  {
    name: 'default-deny-kept',
    why: 'every allow rule of the namespace is written against a default deny; weakening or removing it opens everything',
    target: 'networkpolicies',
    onDelete: true,
    matchCondition: "(request.operation == 'DELETE' ? oldObject : object).metadata.name == 'default-deny-all'",
    validations: [
      {
        expression: `request.operation != 'DELETE' && ${isDefaultDeny('object')}`,
        message: 'NetworkPolicy default-deny-all must select every pod (podSelector: {}), list Ingress and Egress, allow nothing, and stay',
      },
    ],
  },
  {
    name: 'default-deny-present',
    why: 'a workload in a namespace without a default deny can reach and be reached by anything',
    target: 'workloads',
    validations: [],
    lookup: {
      kyverno: `resource.List('networking.k8s.io/v1', 'networkpolicies', object.metadata.namespace).items.exists(np, ${isDefaultDeny('np')})`,
      vap: isDefaultDeny('params'),
      message: 'the namespace needs the NetworkPolicy default-deny-all (podSelector: {}, policyTypes Ingress and Egress, no rules) before any workload',
      param: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: 'default-deny-all' },
    },
  },
];

const policyName = (rule: AdmissionRule) => `carbon-${rule.name}`;
const labels = { 'app.kubernetes.io/name': 'carbon', 'app.kubernetes.io/component': 'admission' };

function matchConstraints(rule: AdmissionRule): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  for (const r of targetResources[rule.target]) groups.set(r.apiGroup, [...(groups.get(r.apiGroup) ?? []), r.resource]);
  return {
    namespaceSelector: { matchLabels: { [governedNamespaceLabel.key]: governedNamespaceLabel.value } },
    resourceRules: [...groups].map(([group, resources]) => ({
      apiGroups: [group],
      apiVersions: ['v1'],
      operations: rule.onDelete ? ['CREATE', 'UPDATE', 'DELETE'] : ['CREATE', 'UPDATE'],
      resources,
    })),
  };
}

function commonSpec(rule: AdmissionRule, engine: 'kyverno' | 'vap'): Record<string, unknown> {
  const validations = rule.lookup
    ? [{ expression: rule.lookup[engine], message: rule.lookup.message }]
    : rule.validations.map((v) => ({ expression: v.expression, message: v.message }));
  return {
    failurePolicy: 'Fail',
    matchConstraints: matchConstraints(rule),
    ...(rule.matchCondition === undefined ? {} : { matchConditions: [{ name: rule.name, expression: rule.matchCondition }] }),
    ...(rule.target === 'workloads' ? { variables: workloadVariables } : {}),
    validations,
  };
}

/** The Kyverno ValidatingPolicy of each rule. */
export function kyvernoPolicies(): K8sObject[] {
  return admissionRules.map((rule) => ({
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ValidatingPolicy',
    metadata: { name: policyName(rule), labels },
    spec: {
      validationActions: ['Deny'],
      // The rules match the pod controllers themselves (variables.template): Kyverno must not generate its own.
      autogen: { podControllers: { controllers: [] } },
      ...commonSpec(rule, 'kyverno'),
    },
  }));
}

/** The ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding of each rule. */
export function admissionPolicies(): K8sObject[] {
  return admissionRules.flatMap((rule) => {
    const lookup = rule.lookup;
    return [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policyName(rule), labels },
        spec: {
          ...(lookup ? { paramKind: { apiVersion: lookup.param.apiVersion, kind: lookup.param.kind } } : {}),
          ...commonSpec(rule, 'vap'),
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policyName(rule), labels },
        spec: {
          policyName: policyName(rule),
          validationActions: ['Deny'],
          // Without a namespace, the parameter is looked up in the namespace of the object admitted; a namespace
          // without it is refused (failurePolicy Fail).
          ...(lookup ? { paramRef: { name: lookup.param.name, parameterNotFoundAction: 'Deny' } } : {}),
        },
      },
    ];
  });
}

export const policiesDir = join(repoRoot, 'deploy', 'k8s', 'policies');

function yamlFile(header: string, objects: readonly K8sObject[]): string {
  const why = new Map(admissionRules.map((r) => [policyName(r), r.why]));
  const docs = objects.map((o) => `# ${o.kind === 'ValidatingAdmissionPolicyBinding' ? 'Binds' : 'Why'}: ${o.kind === 'ValidatingAdmissionPolicyBinding' ? `${o.metadata.name} to the governed namespaces, denying.` : why.get(o.metadata.name)}\n${stringify(o, { lineWidth: 0 })}`);
  return `${header}\n${docs.join('---\n')}`;
}

/** The generated files of deploy/k8s/policies/, by name. */
export function admissionPolicyFiles(): Map<string, string> {
  const generated = '# Generated by deploy/tools/build-admission-policies.ts from deploy/tools/admission-policies.ts: edit those, then run it.';
  return new Map([
    ['kyverno-validating-policies.yaml', yamlFile(`${generated}\n# Kyverno ValidatingPolicy (policies.kyverno.io/v1, Kyverno 1.16 or later), one per rule.`, kyvernoPolicies())],
    ['validating-admission-policies.yaml', yamlFile(`${generated}\n# The same rules as Kubernetes ValidatingAdmissionPolicy and binding (admissionregistration.k8s.io/v1, Kubernetes 1.30 or later).`, admissionPolicies())],
  ]);
}
