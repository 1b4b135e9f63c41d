/**
 * Authentication, authorisation and rate limiting of a call, cheap enough for the hot path: a token's tenant
 * is remembered after its first hash (a bounded map, forgotten whenever the tenants change), and the tenant's
 * quota is asked of the quota port, which answers from this worker's share without a round trip while it lasts.
 */
import type { Metadata } from '@grpc/grpc-js';
import { GatewayError } from './errors.ts';
import type { QuotaPort } from './quota.ts';
import { mayRead, sha256Hex, type Tenant, type TenantDirectory } from './tenants.ts';

/** Why a call was refused, for the audit log. */
export interface AuthFailure {
  readonly action: 'auth.unauthenticated' | 'auth.denied';
  readonly actor: string;
  readonly subject: string;
  readonly details: Record<string, unknown>;
}

const MAX_REMEMBERED_TOKENS = 10_000;
const bearer = /^Bearer ([\x21-\x7e]{1,512})$/;

type Remembered = { readonly tenant: Tenant; readonly expiresAtMs: number | null } | null;

function refuseAbove(tenant: Tenant, waitMs: number): void {
  if (waitMs > 0) {
    throw new GatewayError('RATE_LIMITED', `rate limit of tenant ${tenant.name}: ${tenant.ratePerSecond} calls/s (burst ${tenant.burst}); retry in ${waitMs} ms`);
  }
}

export class Authenticator {
  private readonly tenantOfToken = new Map<string, Remembered>();
  private generation: number;

  constructor(
    private readonly directory: TenantDirectory,
    private readonly quotas: QuotaPort,
    private readonly onFailure: (failure: AuthFailure) => void,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.generation = directory.generation;
  }

  /** The caller's tenant; throws UNAUTHENTICATED. `peer` is read on failures only. */
  identify(metadata: Metadata, method: string, peer: () => string): Tenant {
    const values = metadata.get('authorization');
    const tenant = values.length === 0 ? this.directory.anonymous : this.tenantOf(values, method, peer);
    if (tenant === undefined) {
      this.onFailure({ action: 'auth.unauthenticated', actor: 'anonymous', subject: method, details: { reason: 'no token', peer: peer() } });
      throw new GatewayError('UNAUTHENTICATED', 'no credentials: send metadata "authorization: Bearer <token>"');
    }
    return tenant;
  }

  /** Passes when the tenant is within its quota, else throws (or rejects with) RATE_LIMITED; a Promise only when the quota had to be asked for remotely. */
  admit(tenant: Tenant): void | Promise<void> {
    const waitMs = this.quotas.take(tenant);
    if (typeof waitMs === 'number') return refuseAbove(tenant, waitMs);
    return waitMs.then((ms) => refuseAbove(tenant, ms));
  }

  private tenantOf(values: readonly (string | Buffer)[], method: string, peer: () => string): Tenant {
    const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
    const token = header === undefined ? undefined : bearer.exec(header)?.[1];
    if (token === undefined) {
      this.onFailure({ action: 'auth.unauthenticated', actor: 'anonymous', subject: method, details: { reason: 'malformed authorization', peer: peer() } });
      throw new GatewayError('UNAUTHENTICATED', 'malformed credentials: send exactly one "authorization: Bearer <token>"');
    }
    if (this.directory.generation !== this.generation) {
      this.tenantOfToken.clear();
      this.generation = this.directory.generation;
    }
    let known = this.tenantOfToken.get(token);
    if (known === undefined) {
      known = this.directory.byTokenHash(sha256Hex(token)) ?? null;
      if (this.tenantOfToken.size >= MAX_REMEMBERED_TOKENS) this.tenantOfToken.clear();
      this.tenantOfToken.set(token, known);
    }
    if (known !== null && known.expiresAtMs !== null && this.nowMs() >= known.expiresAtMs) {
      // A rotated token past its overlap: refused from now on, as the directory would.
      known = null;
      this.tenantOfToken.set(token, null);
    }
    if (known === null) {
      // The audit row names the token by a hash prefix only: enough to correlate, useless to replay.
      this.onFailure({ action: 'auth.unauthenticated', actor: 'anonymous', subject: method, details: { reason: 'unknown token', tokenSha256Prefix: sha256Hex(token).slice(0, 12), peer: peer() } });
      throw new GatewayError('UNAUTHENTICATED', 'unknown token: check the token, or ask an operator for one');
    }
    return known.tenant;
  }

  /** Throws PERMISSION_DENIED unless `tenant` may read `commodity`. */
  authorize(tenant: Tenant, commodity: string, method: string): void {
    if (mayRead(tenant, commodity)) return;
    this.onFailure({ action: 'auth.denied', actor: tenant.name, subject: commodity, details: { method } });
    throw new GatewayError('PERMISSION_DENIED', `tenant ${tenant.name} may not read ${commodity}; it may read ${[...(tenant.commodities ?? [])].join(', ')}`);
  }
}
