/**
 * The text of `carbon status`, from what each source said (or why it said nothing): the primary (its workers and
 * restarts), Redis (who owns which partition), Kafka (the group's lag), Postgres (commodities and champions).
 * Pure: the command gathers, this lays out.
 */
import { partitionOf } from '../../connectors/partitioner.ts';
import type { PartitionLag } from '../../connectors/kafka/group-lag.ts';
import type { ChampionInService } from '../../connectors/postgres/service-view.ts';
import type { PartitionOwner } from '../../connectors/redis/ownership.ts';
import type { PrimaryStatus } from '../../supervisors/cluster/primary-status.ts';

/** What a source answered, or why it could not. */
export type Fetched<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

export interface StatusInputs {
  readonly primaryUrl: string;
  readonly primary: Fetched<PrimaryStatus>;
  /** The owner of each partition of the prices topic, by partition. */
  readonly owners: Fetched<ReadonlyArray<PartitionOwner | undefined>>;
  readonly lag: Fetched<{ readonly topic: string; readonly groupId: string; readonly partitions: readonly PartitionLag[] }>;
  readonly commodities: Fetched<readonly string[]>;
  readonly champions: Fetched<readonly ChampionInService[]>;
  /** Partitions of the prices topic (the partitioner's modulus). */
  readonly partitionCount: number;
  readonly nowMs: number;
}

/** `3d04h`, `2h05m`, `4m10s`, `12s`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3_600))}h`;
  if (s >= 3_600) return `${Math.floor(s / 3_600)}h${pad(Math.floor((s % 3_600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** The pid in a gateway's worker id (`host:pid:random`). */
export function pidOfWorkerId(workerId: string): number | undefined {
  const m = /:(\d+):[0-9a-f]+$/.exec(workerId);
  return m ? Number(m[1]) : undefined;
}

function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => `${indent}${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ')}`.trimEnd());
}

const list = (items: readonly (string | number)[]): string => (items.length === 0 ? '-' : items.join(' '));
const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

function primarySection(v: StatusInputs): string[] {
  if (!v.primary.ok) return [`primary  ${v.primaryUrl}: no answer (${v.primary.why}); is \`carbon start\` running there?`];
  const p = v.primary.value;
  const lines = [`primary  ${p.state}, up ${formatAge(v.nowMs - p.startedAtMs)} (pid ${p.pid}), workers ${p.workers.length}/${p.expectedWorkers}, ${v.primaryUrl}`];
  if (p.line !== undefined) lines.push(`         ${p.line}`);
  return lines;
}

function workersSection(v: StatusInputs): string[] {
  const owners = v.owners.ok ? v.owners.value : [];
  const partitionsOf = (pid: number | undefined): number[] =>
    owners.flatMap((o) => (o !== undefined && pid !== undefined && pidOfWorkerId(o.workerId) === pid ? [o.partition] : [])).sort((a, b) => a - b);
  const commoditiesOf = (partitions: readonly number[]): string[] =>
    v.commodities.ok ? v.commodities.value.filter((c) => partitions.includes(partitionOf(c, v.partitionCount))) : [];
  const rows: string[][] = [['worker', 'pid', 'up', 'restarts', 'partitions', 'commodities']];
  const known = new Set<number>();
  for (const w of v.primary.ok ? v.primary.value.workers : []) {
    const partitions = partitionsOf(w.pid);
    partitions.forEach((p) => known.add(p));
    rows.push([String(w.slot), String(w.pid ?? '-'), formatAge(v.nowMs - w.startedAtMs), String(w.restarts), list(partitions), list(commoditiesOf(partitions))]);
  }
  // Owners this primary did not fork: the workers of other pods (or of a primary that is gone).
  const elsewhere = new Map<string, number[]>();
  for (const o of owners) if (o !== undefined && !known.has(o.partition)) elsewhere.set(o.workerId, [...(elsewhere.get(o.workerId) ?? []), o.partition]);
  for (const [workerId, partitions] of elsewhere) rows.push([workerId, '-', '-', '-', list(partitions), list(commoditiesOf(partitions))]);
  const lines = ['workers', ...table(rows)];
  if (!v.owners.ok) lines.push(`  (partitions unknown: ${v.owners.why})`);
  else {
    const unowned = owners.flatMap((o, p) => (o === undefined ? [p] : []));
    if (unowned.length > 0) lines.push(`  unowned partitions: ${list(unowned)} (answered degraded until the group assigns them)`);
  }
  if (!v.commodities.ok) lines.push(`  (commodities unknown: ${v.commodities.why})`);
  return lines;
}

function championsSection(v: StatusInputs): string[] {
  if (!v.champions.ok) return ['champions', `  (unknown: ${v.champions.why})`];
  if (v.champions.value.length === 0) return ['champions', '  none in service yet (carbon train --all)'];
  const rows = [['commodity', 'horizon', 'version', 'family', 'trained (UTC)']];
  for (const c of v.champions.value) rows.push([c.commodity, String(c.horizonTicks), `v${c.version}`, c.family ?? '-', time(c.trainedAtMs)]);
  return ['champions (models in service)', ...table(rows)];
}

function lagSection(v: StatusInputs): string[] {
  if (!v.lag.ok) return [`consumer lag  (unknown: ${v.lag.why})`];
  const { topic, groupId, partitions } = v.lag.value;
  const total = partitions.reduce((sum, p) => sum + p.lag, 0);
  const behind = partitions.filter((p) => p.lag > 0).map((p) => `${p.partition}:${p.lag.toLocaleString('en-US')}`);
  return [`consumer lag  ${total.toLocaleString('en-US')} messages (group ${groupId} on ${topic})${behind.length > 0 ? `; by partition ${behind.join(' ')}` : ''}`];
}

function restartsSection(v: StatusInputs): string[] {
  if (!v.primary.ok) return [];
  const recent = v.primary.value.recentRestarts;
  if (recent.length === 0) return ['recent restarts  none'];
  return ['recent restarts', ...table([['worker', 'reason', 'when'], ...[...recent].reverse().map((r) => [String(r.slot), r.reason, `${formatAge(v.nowMs - r.atMs)} ago`])])];
}

export function renderStatus(v: StatusInputs): string {
  return `${[...primarySection(v), '', ...workersSection(v), '', ...championsSection(v), '', ...lagSection(v), ...restartsSection(v)].join('\n')}\n`;
}
