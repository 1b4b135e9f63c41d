/**
 * Partition ownership for the gateway's routing: which worker's internal endpoint owns each partition of the
 * prices topic. Redis in the cluster, a Map in the embedded mode (where one process owns everything).
 *
 * Freshness: kafkajs does not expose the consumer group's generation id, so each assignment takes a fencing
 * token from one Redis counter (INCR, per key prefix) when the worker learns of it. A claim is written only
 * over an entry with a smaller token, and a worker deletes only entries that are still its own, so a late
 * write of an older assignment loses to a newer one whatever the order the writes reach Redis. The counter
 * follows the group's join order: a member learns of generation g+1 only after every member rejoined, and each
 * sent its INCR for generation g before rejoining. Entries are leases (PX): a worker that dies or freezes
 * stops renewing them and its partitions become unowned (degraded answers) until the group reassigns them.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

export interface PartitionOwner {
  readonly partition: number;
  /** Fencing token of the assignment that made this claim. */
  readonly epoch: number;
  /** Unique id of the worker process (host, pid and a random suffix). */
  readonly workerId: string;
  /** host:port of the worker's internal gRPC endpoint. */
  readonly endpoint: string;
}

export interface OwnershipRegistry {
  /** A fencing token greater than any handed out before under this registry's namespace. */
  nextEpoch(): Promise<number>;
  /** Claims `partitions` for this worker at `epoch`; returns those it now holds (a fresher claim keeps the others). */
  claim(partitions: readonly number[], epoch: number, leaseMs: number): Promise<number[]>;
  /** Extends the leases of the entries that are still this worker's. */
  renew(partitions: readonly number[], leaseMs: number): Promise<void>;
  /** Deletes the entries of `partitions` that are still this worker's. */
  withdraw(partitions: readonly number[]): Promise<void>;
  /** The current owner of each partition in [0, partitionCount), undefined when none. */
  readAll(partitionCount: number): Promise<(PartitionOwner | undefined)[]>;
  /** Calls `onChange` whenever any worker claims or withdraws; resolves with the unsubscribe function. */
  watch(onChange: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OwnerIdentity {
  readonly workerId: string;
  readonly endpoint: string;
}

function encode(epoch: number, who: OwnerIdentity): string {
  return `${epoch}|${who.workerId}|${who.endpoint}`;
}

export function decodeOwner(partition: number, value: string | null | undefined): PartitionOwner | undefined {
  if (!value) return undefined;
  const [epoch, workerId, endpoint] = value.split('|');
  if (epoch === undefined || workerId === undefined || endpoint === undefined || !/^\d+$/.test(epoch)) return undefined;
  return { partition, epoch: Number(epoch), workerId, endpoint };
}

// KEYS: partition keys; ARGV: epoch, value, leaseMs. Sets each key whose current epoch is smaller (or absent);
// returns 1/0 per key.
const claimScript = `
local out = {}
for i, key in ipairs(KEYS) do
  local cur = redis.call('GET', key)
  local curEpoch = cur and tonumber(string.match(cur, '^(%d+)|')) or -1
  if curEpoch < tonumber(ARGV[1]) or cur == ARGV[2] then
    redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

// KEYS: partition keys; ARGV: '|workerId|' marker, leaseMs (0: delete). Touches only entries holding the marker.
const ownScript = `
for _, key in ipairs(KEYS) do
  local cur = redis.call('GET', key)
  if cur and string.find(cur, ARGV[1], 1, true) then
    if ARGV[2] == '0' then redis.call('DEL', key) else redis.call('PEXPIRE', key, ARGV[2]) end
  end
end
return 0`;

export function redisOwnershipRegistry(redis: Redis, prefix: string, self: OwnerIdentity): OwnershipRegistry {
  const key = (p: number) => `${prefix}owners:${p}`;
  const epochKey = `${prefix}owners:epoch`;
  const channel = `${prefix}owners:changed`;
  const marker = `|${self.workerId}|`;
  const subscribers: Redis[] = [];
  const announce = async () => {
    await redis.publish(channel, self.workerId);
  };
  return {
    async nextEpoch() {
      return redis.incr(epochKey);
    },
    async claim(partitions, epoch, leaseMs) {
      if (partitions.length === 0) return [];
      const result = (await redis.eval(claimScript, partitions.length, ...partitions.map(key), String(epoch), encode(epoch, self), String(leaseMs))) as number[];
      await announce();
      return partitions.filter((_, i) => result[i] === 1);
    },
    async renew(partitions, leaseMs) {
      if (partitions.length === 0) return;
      await redis.eval(ownScript, partitions.length, ...partitions.map(key), marker, String(leaseMs));
    },
    async withdraw(partitions) {
      if (partitions.length === 0) return;
      await redis.eval(ownScript, partitions.length, ...partitions.map(key), marker, '0');
      await announce();
    },
    async readAll(partitionCount) {
      const keys = Array.from({ length: partitionCount }, (_, p) => key(p));
      const values = await redis.mget(...keys);
      return values.map((v, p) => decodeOwner(p, v));
    },
    async watch(onChange) {
      const sub = redis.duplicate();
      subscribers.push(sub);
      sub.on('message', () => onChange());
      await sub.subscribe(channel);
      return async () => {
        subscribers.splice(subscribers.indexOf(sub), 1);
        await sub.quit();
      };
    },
    async close() {
      await Promise.all(subscribers.splice(0).map((s) => s.quit()));
    },
  };
}

/**
 * The embedded mode's registry (one process, or several gateways in one test process): the same rules over
 * a Map shared by whoever holds `state`. Leases are not enforced (a process owns its own entries).
 */
export interface MemoryOwnershipState {
  epoch: number;
  readonly entries: Map<number, PartitionOwner>;
  readonly events: EventEmitter;
}

export function memoryOwnershipState(): MemoryOwnershipState {
  return { epoch: 0, entries: new Map(), events: new EventEmitter() };
}

export function memoryOwnershipRegistry(state: MemoryOwnershipState, self: OwnerIdentity): OwnershipRegistry {
  const mine = (p: number) => state.entries.get(p)?.workerId === self.workerId;
  return {
    async nextEpoch() {
      return ++state.epoch;
    },
    async claim(partitions, epoch) {
      const held: number[] = [];
      for (const p of partitions) {
        const cur = state.entries.get(p);
        if (cur === undefined || cur.epoch < epoch || (cur.epoch === epoch && cur.workerId === self.workerId)) {
          state.entries.set(p, { partition: p, epoch, ...self });
          held.push(p);
        }
      }
      state.events.emit('changed');
      return held;
    },
    async renew() {},
    async withdraw(partitions) {
      for (const p of partitions) if (mine(p)) state.entries.delete(p);
      state.events.emit('changed');
    },
    async readAll(partitionCount) {
      return Array.from({ length: partitionCount }, (_, p) => state.entries.get(p));
    },
    async watch(onChange) {
      state.events.on('changed', onChange);
      return async () => {
        state.events.off('changed', onChange);
      };
    },
    async close() {},
  };
}
