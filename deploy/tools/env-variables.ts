/**
 * Every CARBON_* variable a manifest sets must be one the code reads, so that a typo or a setting the code no
 * longer has fails a test instead of being silently ignored by the pods. "Read" means: a call of the platform's
 * EnvReader in platform/config.ts or gateway/gateway-config.ts (or an `env.NAME` there), a `$(NAME)` in some
 * container's command line, or one of the few variables read elsewhere, each listed with the file that reads it
 * (and checked to be in that file, so the list cannot go stale either).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { K8sObject, PodSpec } from './manifests.ts';

/** The modules whose EnvReader calls define the settings. */
export const configReaders = ['platform/config.ts', 'gateway/gateway-config.ts'] as const;

/** Variables read outside the config readers, with the file that reads each. */
export const readElsewhere: ReadonlyMap<string, string> = new Map([
  ['CARBON_LOG_LEVEL', 'platform/logger.ts'],
  ['CARBON_LOG_FORMAT', 'platform/logger.ts'],
  ['CARBON_WORKER_NODE_ARGS', 'supervisors/cluster/cluster-primary.ts'],
  ['CARBON_WORKER_SLOT', 'supervisors/cluster/cluster-primary.ts'],
  ['CARBON_PUSHGATEWAY_URL', 'cli/commands/train.ts'],
]);

const readerCall = /\.(string|optionalString|int|number|durationMs|sizeBytes|bool|list|url)\(\s*'([A-Z][A-Z0-9_]*)'/g;
const envProperty = /\benv\.([A-Z][A-Z0-9_]*)\b/g;

/** Variable names read by `source` (the text of a config reader module). */
export function variablesReadBy(source: string): string[] {
  return [...new Set([...[...source.matchAll(readerCall)].map((m) => m[2] as string), ...[...source.matchAll(envProperty)].map((m) => m[1] as string)])].sort();
}

/**
 * The EnvReader method that reads each variable of `source` (`durationMs`, `int`, ...), for the configuration fuzz.
 * A variable first asked for with `optionalString` (is it set?) and then read by its own reader has that reader.
 */
export function readerKindsOf(source: string): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const m of source.matchAll(readerCall)) {
    const kind = m[1] as string;
    const name = m[2] as string;
    if (!kinds.has(name) || kinds.get(name) === 'optionalString') kinds.set(name, kind);
  }
  return kinds;
}

/** Every variable the code reads, by name; throws when an allow-listed file does not mention its variable. */
export function variablesReadByCode(root: string): Set<string> {
  const read = new Set<string>();
  for (const file of configReaders) for (const v of variablesReadBy(readFileSync(join(root, file), 'utf8'))) read.add(v);
  for (const [variable, file] of readElsewhere) {
    if (!readFileSync(join(root, file), 'utf8').includes(variable)) throw new Error(`deploy/tools/env-variables.ts: ${file} no longer reads ${variable}; update readElsewhere`);
    read.add(variable);
  }
  return read;
}

interface EnvContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}

function podSpecs(objects: readonly K8sObject[]): { owner: K8sObject; spec: PodSpec }[] {
  const out: { owner: K8sObject; spec: PodSpec }[] = [];
  for (const o of objects) {
    const spec = o.spec as { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined;
    const pod = o.kind === 'CronJob' ? spec?.jobTemplate?.spec?.template?.spec : spec?.template?.spec;
    if (pod) out.push({ owner: o, spec: pod });
  }
  return out;
}

/**
 * Problems: each CARBON_* variable set on a container (directly, or as a key of a ConfigMap it takes its
 * environment from) that nothing reads. `read` defaults to the code's readers under `root`.
 */
export function unreadVariableProblems(objects: readonly K8sObject[], root: string, read: ReadonlySet<string> = variablesReadByCode(root)): string[] {
  const configMapKeys = (name: string): string[] => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    return Object.keys((cm?.data as Record<string, string> | undefined) ?? {});
  };
  const usedInCommands = new Set<string>();
  const pods = podSpecs(objects);
  for (const { spec } of pods) {
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])] as EnvContainer[]) {
      for (const word of [...(c.command ?? []), ...(c.args ?? [])]) for (const m of word.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) usedInCommands.add(m[1] as string);
    }
  }
  const problems = new Set<string>();
  for (const { owner, spec } of pods) {
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])] as EnvContainer[]) {
      const set: { variable: string; from: string }[] = [
        ...(c.env ?? []).map((e) => ({ variable: e.name, from: 'env' })),
        ...(c.envFrom ?? []).flatMap((f) => (f.configMapRef ? configMapKeys(f.configMapRef.name).map((k) => ({ variable: k, from: `ConfigMap ${f.configMapRef?.name}` })) : [])),
      ];
      for (const { variable, from } of set) {
        if (!variable.startsWith('CARBON_') || read.has(variable) || usedInCommands.has(variable)) continue;
        problems.add(`${owner.kind}/${owner.metadata.name} container ${c.name}: ${variable} (from its ${from}) is read by no code (platform/config.ts, gateway/gateway-config.ts, a command line, or deploy/tools/env-variables.ts readElsewhere)`);
      }
    }
  }
  return [...problems];
}
