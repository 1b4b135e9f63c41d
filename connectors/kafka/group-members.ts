/**
 * Removes a member from the consumer group on its behalf: a LeaveGroup for the member id of a worker that died. The
 * group coordinator then rebalances at once, instead of waiting out the dead member's session timeout, so its
 * partitions move to the survivors within a heartbeat or two while the session timeout stays long enough for a GC
 * pause. Kafka accepts a LeaveGroup for a dynamic member from any client (v3 names the members to remove).
 *
 * kafkajs's admin has no such call (Java's Admin.removeMembersFromConsumerGroup only takes static members), so this
 * uses the group coordinator connection of a kafkajs cluster of its own: kafkajs 2.2.4 keeps its cluster factory on
 * a private symbol of the client. test/kafka-group.test.ts checks it against the real broker.
 */
import type { Kafka } from 'kafkajs';

interface LeaveGroupMember {
  readonly memberId: string;
  readonly errorCode: number;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<{ leaveGroup(request: { groupId: string; memberId: string }): Promise<{ members?: LeaveGroupMember[] }> }>;
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';

function clusterOf(kafka: Kafka): KafkajsCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const create = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== 'function') throw new Error(`this kafkajs has no ${CREATE_CLUSTER}: the member removal needs kafkajs 2.2's client internals`);
  return (create as (options: Record<string, never>) => KafkajsCluster)({});
}

/** Kafka's UNKNOWN_MEMBER_ID: the member already left or was removed. */
const UNKNOWN_MEMBER_ID = 25;

export interface GroupMembers {
  /** Connects ahead of the first removal, which then costs one request instead of a connection too. */
  connect(): Promise<void>;
  /** Removes `memberId`; 'gone' when the group did not know it (it left, or its session expired already). */
  remove(memberId: string): Promise<'removed' | 'gone'>;
  close(): Promise<void>;
}

export function groupMembers(kafka: Kafka, groupId: string): GroupMembers {
  let cluster: Promise<KafkajsCluster> | undefined;
  const connected = (): Promise<KafkajsCluster> => {
    cluster ??= (async () => {
      const c = clusterOf(kafka);
      await c.connect();
      return c;
    })();
    cluster.catch(() => {
      cluster = undefined;
    });
    return cluster;
  };
  return {
    async connect() {
      await connected();
    },
    async remove(memberId) {
      const coordinator = await (await connected()).findGroupCoordinator({ groupId });
      try {
        const { members = [] } = await coordinator.leaveGroup({ groupId, memberId });
        return members.some((m) => m.memberId === memberId && m.errorCode === UNKNOWN_MEMBER_ID) ? 'gone' : 'removed';
      } catch (err) {
        if ((err as { type?: unknown }).type === 'UNKNOWN_MEMBER_ID') return 'gone';
        throw err;
      }
    },
    async close() {
      if (cluster !== undefined) await (await cluster).disconnect();
    },
  };
}
