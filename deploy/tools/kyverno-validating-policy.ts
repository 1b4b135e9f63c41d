/**
 * Kyverno's ValidatingPolicy (policies.kyverno.io/v1), restated: the npm models of Kyverno's CRDs need Node 22 and
 * a newer @kubernetes-models/base than kubernetes-models here. A ValidatingPolicy is a ValidatingAdmissionPolicy
 * spec plus Kyverno's own fields, so the type is written over kubernetes-models' admission types, and the checks
 * run Kubernetes' own ValidatingAdmissionPolicy schema on the shared part and check Kyverno's fields by hand.
 */
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import type { IIoK8sApiAdmissionregistrationV1AuditAnnotation } from 'kubernetes-models/admissionregistration.k8s.io/v1/AuditAnnotation';
import type { IIoK8sApiAdmissionregistrationV1MatchCondition } from 'kubernetes-models/admissionregistration.k8s.io/v1/MatchCondition';
import type { IIoK8sApiAdmissionregistrationV1MatchResources } from 'kubernetes-models/admissionregistration.k8s.io/v1/MatchResources';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import type { IIoK8sApiAdmissionregistrationV1Validation } from 'kubernetes-models/admissionregistration.k8s.io/v1/Validation';
import type { IIoK8sApiAdmissionregistrationV1Variable } from 'kubernetes-models/admissionregistration.k8s.io/v1/Variable';

export interface IValidatingPolicy {
  apiVersion: 'policies.kyverno.io/v1';
  kind: 'ValidatingPolicy';
  metadata: IIoK8sApimachineryPkgApisMetaV1ObjectMeta;
  spec: {
    auditAnnotations?: IIoK8sApiAdmissionregistrationV1AuditAnnotation[];
    /** Rules Kyverno derives for pod controllers from a policy on pods; `controllers: []` derives none. */
    autogen?: { podControllers?: { controllers?: string[] }; validatingAdmissionPolicy?: { enabled?: boolean } };
    evaluation?: { admission?: { enabled?: boolean }; background?: { enabled?: boolean }; mode?: 'Kubernetes' | 'JSON' };
    failurePolicy?: 'Fail' | 'Ignore';
    matchConditions?: IIoK8sApiAdmissionregistrationV1MatchCondition[];
    matchConstraints?: IIoK8sApiAdmissionregistrationV1MatchResources;
    validationActions?: ('Audit' | 'Deny' | 'Warn')[];
    validations?: IIoK8sApiAdmissionregistrationV1Validation[];
    variables?: IIoK8sApiAdmissionregistrationV1Variable[];
    webhookConfiguration?: { timeoutSeconds?: number };
  };
}

export function validatingPolicyProblems(policy: IValidatingPolicy): string[] {
  const where = `ValidatingPolicy/${policy.metadata.name ?? '?'}`;
  const { autogen: _autogen, evaluation: _evaluation, validationActions, webhookConfiguration: _webhook, ...shared } = policy.spec;
  const problems: string[] = [];
  try {
    new ValidatingAdmissionPolicy({ metadata: policy.metadata, spec: shared }).validate();
  } catch (err) {
    problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!validationActions || validationActions.length === 0) problems.push(`${where}: spec.validationActions must name Deny, Warn or Audit`);
  if ((policy.spec.validations ?? []).length === 0) problems.push(`${where}: spec.validations is empty`);
  return problems;
}
