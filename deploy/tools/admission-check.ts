/**
 * Admission as the API server (ValidatingAdmissionPolicy) and Kyverno (ValidatingPolicy) decide it, for the
 * policies of deploy/k8s/policies/, with a real CEL evaluator (@bufbuild/cel): match the request against the
 * policy's resource rules, namespace selector and match conditions, evaluate its variables, then its validations;
 * a false one refuses with its message, an expression that fails refuses too (failurePolicy Fail). What the
 * policies read of the cluster (the namespace's labels, its NetworkPolicies) comes from the objects given as the
 * cluster's content: the rendered overlay.
 */
import { celEnv, celMethod, CelScalar, isCelError, mapType, parse, plan, type CelInput, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { targetResources } from './admission-policies.ts';
import { describe, type K8sObject } from './manifests.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';
export type Engine = 'kyverno' | 'vap';

export interface AdmissionRequest {
  readonly operation: Operation;
  /** The object after the change (null on DELETE). */
  readonly object: K8sObject | null;
  /** The object before it (null on CREATE). */
  readonly oldObject: K8sObject | null;
}

export interface Refusal {
  readonly engine: Engine;
  readonly policy: string;
  readonly message: string;
}

interface MatchResources {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  resourceRules?: { apiGroups: string[]; apiVersions?: string[]; operations: string[]; resources: string[] }[];
}
interface PolicySpec {
  matchConstraints?: MatchResources;
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
  validations?: { expression: string; message?: string }[];
  paramKind?: { apiVersion: string; kind: string };
}
interface BindingSpec {
  policyName: string;
  paramRef?: { name?: string; namespace?: string; parameterNotFoundAction?: string };
}

const resourceOfKind = new Map(Object.values(targetResources).flat().map((r) => [r.kind, r]));
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] ?? '' : '');

/** JSON as CEL sees a Kubernetes object: objects are maps, integers are ints (int64), other numbers doubles. */
export function celInput(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(celInput);
  if (value !== null && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, celInput(v)]));
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return value as CelInput;
}

/** Kyverno's resource library, over the given cluster content: resource.List(apiVersion, plural, namespace). */
function resourceLibrary(cluster: readonly K8sObject[]) {
  const pluralOf = (o: K8sObject) => resourceOfKind.get(o.kind)?.resource;
  const dyn = mapType(CelScalar.STRING, CelScalar.DYN);
  return celMethod('List', dyn, [CelScalar.STRING, CelScalar.STRING, CelScalar.STRING], dyn, (apiVersion, resource, namespace) => {
    const items = cluster.filter((o) => o.apiVersion === apiVersion && pluralOf(o) === resource && (namespace === '' || o.metadata.namespace === namespace));
    return celInput({ items }) as Map<string, CelInput>;
  });
}

function evaluate(expression: string, bindings: Record<string, CelInput | CelValue>, cluster: readonly K8sObject[]): CelValue {
  const env = celEnv({ funcs: [...strings, resourceLibrary(cluster)] });
  const result = plan(env, parse(expression))(bindings as Record<string, CelInput>);
  if (isCelError(result)) throw new Error(`${expression}: ${result.message}`);
  return result;
}

function matches(spec: PolicySpec, request: AdmissionRequest, cluster: readonly K8sObject[]): boolean {
  const target = (request.object ?? request.oldObject) as K8sObject;
  const resource = resourceOfKind.get(target.kind);
  if (!resource || groupOf(target.apiVersion) !== resource.apiGroup) return false;
  const ruleMatches = (spec.matchConstraints?.resourceRules ?? []).some((r) =>
    r.apiGroups.includes(resource.apiGroup) && r.resources.includes(resource.resource) && r.operations.includes(request.operation));
  if (!ruleMatches) return false;
  const selector = spec.matchConstraints?.namespaceSelector?.matchLabels ?? {};
  const namespace = cluster.find((o) => o.kind === 'Namespace' && o.metadata.name === target.metadata.namespace);
  if (!Object.entries(selector).every(([k, v]) => namespace?.metadata.labels?.[k] === v)) return false;
  return true;
}

/**
 * The refusals of one policy (a Kyverno ValidatingPolicy, or a ValidatingAdmissionPolicy with its bindings among
 * `policies`) for one request: empty when it admits the request or does not apply to it.
 */
function decide(policy: K8sObject, policies: readonly K8sObject[], request: AdmissionRequest, cluster: readonly K8sObject[]): Refusal[] {
  const spec = policy.spec as PolicySpec;
  const engine: Engine = policy.kind === 'ValidatingPolicy' ? 'kyverno' : 'vap';
  const refuse = (message: string): Refusal[] => [{ engine, policy: policy.metadata.name, message }];
  if (!matches(spec, request, cluster)) return [];
  const bindings: Record<string, CelInput | CelValue> = {
    object: celInput(request.object),
    oldObject: celInput(request.oldObject),
    request: celInput({ operation: request.operation }),
  };
  try {
    for (const c of spec.matchConditions ?? []) if (evaluate(c.expression, bindings, cluster) !== true) return [];
  } catch (err) {
    return refuse(`match condition failed: ${(err as Error).message}`);
  }
  const runs: Record<string, CelInput | CelValue>[] = [];
  if (engine === 'vap') {
    const bound = policies.filter((b) => b.kind === 'ValidatingAdmissionPolicyBinding' && (b.spec as BindingSpec).policyName === policy.metadata.name);
    if (bound.length === 0) return [];
    for (const b of bound) {
      const ref = (b.spec as BindingSpec).paramRef;
      if (!ref || !spec.paramKind) {
        runs.push({ ...bindings, params: null });
        continue;
      }
      const namespace = ref.namespace ?? (request.object ?? request.oldObject)?.metadata.namespace;
      const param = cluster.find((o) => o.apiVersion === spec.paramKind?.apiVersion && o.kind === spec.paramKind.kind && o.metadata.name === ref.name && o.metadata.namespace === namespace);
      // The API server's own refusal when a Deny binding finds no parameter (failurePolicy Fail).
      if (!param) return ref.parameterNotFoundAction === 'Deny' ? refuse(`no params found for policy binding ${b.metadata.name} with Deny parameterNotFoundAction (${spec.paramKind.kind} ${ref.name} in ${namespace})`) : [];
      runs.push({ ...bindings, params: celInput(param) });
    }
  } else {
    // Kyverno's `resource` library: a value whose List method reads the cluster (resourceLibrary).
    runs.push({ ...bindings, resource: new Map() });
  }
  for (const run of runs) {
    try {
      const variables = new Map<string, CelValue>();
      for (const v of spec.variables ?? []) variables.set(v.name, evaluate(v.expression, { ...run, variables: variables as CelInput }, cluster));
      for (const validation of spec.validations ?? []) {
        if (evaluate(validation.expression, { ...run, variables: variables as CelInput }, cluster) !== true) return refuse(validation.message ?? validation.expression);
      }
    } catch (err) {
      return refuse(`expression failed: ${(err as Error).message}`);
    }
  }
  return [];
}

/** Every refusal of `policies` (both engines' objects) for the request, given the cluster's content. */
export function admit(policies: readonly K8sObject[], request: AdmissionRequest, cluster: readonly K8sObject[]): Refusal[] {
  return policies.filter((p) => p.kind === 'ValidatingPolicy' || p.kind === 'ValidatingAdmissionPolicy').flatMap((p) => decide(p, policies, request, cluster));
}

/** The policies among rendered objects. */
export const isAdmissionPolicy = (o: K8sObject) =>
  ['ValidatingPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind);

/** Creating each object of a rendered overlay, in a cluster holding all of them: the refusals, by object. */
export function overlayRefusals(objects: readonly K8sObject[]): string[] {
  const policies = objects.filter(isAdmissionPolicy);
  return objects.flatMap((o) => admit(policies, { operation: 'CREATE', object: o, oldObject: null }, objects).map((r) => `${describe(o)}: ${r.engine} ${r.policy}: ${r.message}`));
}
