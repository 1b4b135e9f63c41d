/**
 * From a worker to its primary at each join of the consumer group: its member id. When the worker dies, the primary
 * removes that member from the group at once (connectors/kafka/group-members.ts) rather than letting the group wait
 * out its session timeout.
 */
export interface GroupMemberReport {
  readonly type: 'carbon:group-member';
  readonly memberId: string;
}

export function isGroupMemberReport(m: unknown): m is GroupMemberReport {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'carbon:group-member';
}
