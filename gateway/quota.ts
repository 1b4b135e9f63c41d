/**
 * A tenant's rate limit, as the authenticator asks it: may this call go now? The answer is a number when this
 * worker can tell alone (its local share of the tenant's quota), a Promise when it must first ask for more
 * (quota-leases.ts asks Redis). Tenants are keyed by name, and a changed rate or burst applies from the next call.
 */
import type { Tenant } from './tenants.ts';
import { TokenBucket } from './token-bucket.ts';

export interface QuotaPort {
  /** 0: the call may go; otherwise the milliseconds until one may. */
  take(tenant: Tenant): number | Promise<number>;
  close(): Promise<void>;
}

/** One process's buckets: the whole quota when this process is the only one (embedded mode). */
export class LocalQuotas implements QuotaPort {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  take(tenant: Tenant): number {
    let bucket = this.buckets.get(tenant.name);
    if (bucket === undefined || bucket.ratePerSecond !== tenant.ratePerSecond || bucket.burst !== tenant.burst) {
      bucket = new TokenBucket(tenant.ratePerSecond, tenant.burst, this.nowMs());
      this.buckets.set(tenant.name, bucket);
    }
    return bucket.take(this.nowMs());
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
