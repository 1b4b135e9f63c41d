/**
 * Tenants' quotas across the cluster: one token bucket per tenant in Redis (rate and burst as configured, on
 * Redis's own clock, so workers' clocks do not matter), from which each worker leases a few tokens at a time and
 * spends them locally. A call costs a Redis round trip only when this worker's lease is spent: with leases of
 * about 50 ms of the tenant's rate, a tenant at its quota costs each worker a round trip per ~50 ms, whatever the
 * number of its calls, connections or workers. Tokens left in a lease after `LEASE_MS` are dropped (never spent
 * late), so the cluster never admits more than the bucket gave out: the error is on the side of refusing, at most
 * one lease per worker.
 *
 * When Redis fails (or takes over 2 s), calls are limited by this worker's own bucket for a second (the tenant's
 * whole rate: fail open per worker, as before the cluster quotas) and counted in
 * carbon_quota_leases_total{outcome="failed"}.
 */
import type { Redis } from 'ioredis';
import { LocalQuotas, type QuotaPort } from './quota.ts';
import type { Tenant } from './tenants.ts';
import type { Logger } from '../platform/logger.ts';
import { quotaLeases } from '../platform/metrics.ts';

/** How long a lease's tokens may be spent. */
const LEASE_MS = 250;
/** A lease holds this much of the tenant's rate. */
const LEASE_WINDOW_MS = 50;
/** How long the local bucket decides after Redis failed, before Redis is asked again. */
const FALLBACK_MS = 1_000;
/**
 * A Redis answer slower than this is a failure, and the local bucket decides for a while. Generous: a busy machine
 * delays answers by hundreds of milliseconds, and failing open then would admit more than the quota.
 */
const REMOTE_TIMEOUT_MS = 2_000;

/**
 * KEYS[1] the tenant's bucket; ARGV rate (tokens/s), burst, tokens wanted. Returns {granted, wait ms}. The state
 * is kept as strings: Lua numbers returned to Redis would be truncated to integers.
 */
const takeScript = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(v[1])
local ts = tonumber(v[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
local wait = 0
if granted == 0 then
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
return {granted, wait}
`;

/** Tokens asked for at once: LEASE_WINDOW_MS of the rate, at least 1, at most the burst. */
export function leaseSize(ratePerSecond: number, burst: number): number {
  return Math.max(1, Math.min(Math.floor(burst), Math.ceil((ratePerSecond * LEASE_WINDOW_MS) / 1_000)));
}

interface Lease {
  tokens: number;
  expiresAtMs: number;
  /** Refused by the bucket: no remote ask before this. */
  blockedUntilMs: number;
  /** Resolves to whether the bucket gave all that was asked. */
  asking: Promise<boolean> | undefined;
  /** Calls waiting for this lease: the next ask is sized for them. */
  waiting: number;
  /** Set for FALLBACK_MS after Redis failed: this worker's own bucket decides meanwhile. */
  fallback: LocalQuotas | undefined;
}

export class RedisQuotas implements QuotaPort {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {
  }

  take(tenant: Tenant): number | Promise<number> {
    const lease = this.leaseOf(tenant.name);
    return this.spend(lease, tenant, this.nowMs()) ?? this.takeRemote(tenant, lease);
  }

  /** Waits for a lease (one ask in flight per tenant, sized for the calls waiting on it), then spends from it. */
  private async takeRemote(tenant: Tenant, lease: Lease): Promise<number> {
    lease.waiting += 1;
    try {
      for (;;) {
        lease.asking ??= this.ask(tenant, lease).finally(() => {
          lease.asking = undefined;
        });
        const bucketHadMore = await lease.asking;
        const r = this.spend(lease, tenant, this.nowMs());
        if (r !== undefined) return r;
        // Spent by the other waiters: ask again while the bucket gave all that was asked, else it is empty.
        if (!bucketHadMore) return Math.ceil(1_000 / tenant.ratePerSecond);
      }
    } finally {
      lease.waiting -= 1;
    }
  }

  async close(): Promise<void> {
    this.leases.clear();
  }

  private leaseOf(name: string): Lease {
    let lease = this.leases.get(name);
    if (lease === undefined) this.leases.set(name, (lease = { tokens: 0, expiresAtMs: 0, blockedUntilMs: 0, asking: undefined, waiting: 0, fallback: undefined }));
    return lease;
  }

  /** From the lease: 0 when a token was there, the wait while refused, undefined when Redis must be asked. */
  private spend(lease: Lease, tenant: Tenant, now: number): number | undefined {
    if (lease.tokens >= 1 && now < lease.expiresAtMs) {
      lease.tokens -= 1;
      return 0;
    }
    if (now < lease.blockedUntilMs) return lease.blockedUntilMs - now;
    if (lease.fallback !== undefined) return lease.fallback.take(tenant);
    return undefined;
  }

  private async ask(tenant: Tenant, lease: Lease): Promise<boolean> {
    const want = Math.max(leaseSize(tenant.ratePerSecond, tenant.burst), Math.min(lease.waiting, Math.floor(tenant.burst)));
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        this.redis.eval(takeScript, 1, `${this.prefix}quota:${tenant.name}`, String(tenant.ratePerSecond), String(tenant.burst), String(want)) as Promise<[number, number]>,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${REMOTE_TIMEOUT_MS} ms`)), REMOTE_TIMEOUT_MS);
        }),
      ]);
      const [granted, waitMs] = answer;
      const now = this.nowMs();
      lease.tokens = granted;
      lease.expiresAtMs = now + LEASE_MS;
      // Refused: asking again before a lease's worth has flowed in would cost a round trip per token; waiting
      // longer than half the burst's refill time could let the bucket fill up unused (tokens lost to the cap).
      const backoffMs = Math.min(Math.max(waitMs, LEASE_WINDOW_MS), (tenant.burst * 1_000) / tenant.ratePerSecond / 2);
      lease.blockedUntilMs = granted > 0 ? 0 : now + Math.max(waitMs, backoffMs);
      quotaLeases.inc({ outcome: granted > 0 ? 'granted' : 'refused' });
      return granted === want;
    } catch (err) {
      // The local bucket decides for a while; Redis is asked again after it.
      // A bucket of its own for each failure, so that no burst is saved up between failures.
      const fallback = new LocalQuotas(this.nowMs);
      lease.tokens = 0;
      lease.fallback = fallback;
      setTimeout(() => {
        if (lease.fallback === fallback) lease.fallback = undefined;
      }, FALLBACK_MS).unref();
      quotaLeases.inc({ outcome: 'failed' });
      this.log.warn('quota_lease_failed', { tenant: tenant.name, err });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
