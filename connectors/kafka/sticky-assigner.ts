/**
 * A sticky partition assignment for the consumer group: each member says in its join which partitions it holds, and
 * the leader keeps every partition where it is unless the balance needs it elsewhere. A rebalance then moves only
 * what must move (a dead member's partitions, a newcomer's share), so the commodities that stay keep their actors
 * and windows. kafkajs rebalances eagerly (every member rejoins), so fetching still pauses briefly for all; what
 * stickiness saves is the hand-off and the rebuild.
 *
 * Conflicts (two members claiming one partition: a member that was evicted and still believes it holds its
 * partitions) are settled by giving the partition to neither claim, as if it were free.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export interface MemberClaim {
  readonly memberId: string;
  /** Partitions the member holds now (of the one topic this group consumes). */
  readonly owned: readonly number[];
}

/**
 * Partitions per member: each gets floor(n/m) or one more; members keep what they claim up to their share (the ones
 * holding most get the larger shares, so fewer partitions move), the rest goes to the members below their share,
 * lowest partition first to the member with fewest. Deterministic for the same input.
 */
export function stickyAssign(members: readonly MemberClaim[], partitions: readonly number[]): Map<string, number[]> {
  const result = new Map<string, number[]>();
  if (members.length === 0) return result;
  const exists = new Set(partitions);
  const claims = new Map<number, number>();
  for (const m of members) for (const p of new Set(m.owned)) if (exists.has(p)) claims.set(p, (claims.get(p) ?? 0) + 1);
  const kept = new Map(members.map((m) => [m.memberId, [...new Set(m.owned)].filter((p) => claims.get(p) === 1).sort((a, b) => a - b)]));
  const order = [...members].map((m) => m.memberId).sort((a, b) => (kept.get(b)?.length ?? 0) - (kept.get(a)?.length ?? 0) || a.localeCompare(b));
  const base = Math.floor(partitions.length / members.length);
  const extra = partitions.length % members.length;
  const quota = new Map(order.map((id, i) => [id, base + (i < extra ? 1 : 0)]));
  const taken = new Set<number>();
  for (const id of order) {
    const mine = (kept.get(id) ?? []).slice(0, quota.get(id));
    for (const p of mine) taken.add(p);
    result.set(id, mine);
  }
  const free = [...exists].filter((p) => !taken.has(p)).sort((a, b) => a - b);
  for (const p of free) {
    let target: string | undefined;
    for (const id of order) {
      const have = result.get(id)?.length ?? 0;
      if (have >= (quota.get(id) ?? 0)) continue;
      if (target === undefined || have < (result.get(target)?.length ?? 0)) target = id;
    }
    if (target === undefined) break;
    result.get(target)?.push(p);
  }
  for (const list of result.values()) list.sort((a, b) => a - b);
  return result;
}

const NAME = 'CarbonSticky';
const VERSION = 1;

function encodeOwned(owned: readonly number[]): Buffer {
  return Buffer.from(JSON.stringify({ owned }), 'utf8');
}

function decodeOwned(userData: Buffer | undefined): number[] {
  if (userData === undefined || userData.length === 0) return [];
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { owned?: unknown };
    return Array.isArray(parsed.owned) ? parsed.owned.filter((p): p is number => Number.isInteger(p)) : [];
  } catch {
    // A member of another version: it claims nothing, which only costs stickiness.
    return [];
  }
}

/**
 * The kafkajs assigner for a group that consumes one topic. `owned` says what this member holds when it joins (its
 * last assignment).
 */
export function stickyAssigner(topic: string, owned: () => readonly number[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: NAME,
    version: VERSION,
    async assign({ members }) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      const claims = members.map((m) => ({ memberId: m.memberId, owned: decodeOwned(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData) }));
      const assignment = stickyAssign(claims, partitions);
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment: { [topic]: assignment.get(m.memberId) ?? [] }, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: encodeOwned(owned()) }) };
    },
  });
}
