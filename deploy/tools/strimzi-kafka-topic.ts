/**
 * Strimzi's KafkaTopic (kafka.strimzi.io/v1beta2), restated: no registry reachable here ships Strimzi's CRD schema
 * (its Maven artifact io.strimzi:api holds the Java model only), so the fields of KafkaTopicSpec and their bounds
 * (partitions >= 1, 1 <= replicas <= 32767, config values scalars) are written down here from that model, and
 * manifests.ts checks our topics against them: the type for unknown or mistyped fields, kafkaTopicProblems for bounds.
 */
import type { IIoK8sApimachineryPkgApisMetaV1ObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

export interface IKafkaTopic {
  apiVersion: 'kafka.strimzi.io/v1beta2';
  kind: 'KafkaTopic';
  metadata: IIoK8sApimachineryPkgApisMetaV1ObjectMeta;
  spec?: {
    /** Defaults to metadata.name. */
    topicName?: string;
    partitions?: number;
    replicas?: number;
    config?: Record<string, string | number | boolean>;
  };
}

export function kafkaTopicProblems(topic: IKafkaTopic): string[] {
  const problems: string[] = [];
  const name = topic.metadata.name ?? '?';
  const spec = topic.spec ?? {};
  if (!topic.metadata.labels?.['strimzi.io/cluster']) problems.push(`KafkaTopic/${name}: no strimzi.io/cluster label (no topic operator would manage it)`);
  if (spec.partitions !== undefined && !(Number.isInteger(spec.partitions) && spec.partitions >= 1)) {
    problems.push(`KafkaTopic/${name}: spec.partitions must be an integer >= 1`);
  }
  if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && spec.replicas >= 1 && spec.replicas <= 32767)) {
    problems.push(`KafkaTopic/${name}: spec.replicas must be an integer in [1, 32767]`);
  }
  return problems;
}
