/**
 * Forwarding to the owner: one GatewayInternal client per peer endpoint (a channel multiplexes every call),
 * each call under the deadline the router gives it; concurrent forwards of one commodity to one owner share a
 * call (single-flight.ts). Failures come back as a reason, never thrown: the router answers degraded instead.
 */
import { Metadata, type ChannelCredentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { GatewayInternalClient, OwnerSnapshotOutcome, type OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { SingleFlight } from './single-flight.ts';

export type ForwardResult =
  | { readonly ok: true; readonly response: OwnerSnapshotResponse }
  | { readonly ok: false; readonly reason: string };

export class OwnerClients {
  private readonly clients = new Map<string, GatewayInternalClient>();
  private readonly metadata = new Metadata();
  private readonly inFlight = new SingleFlight<ForwardResult>();

  constructor(private readonly credentials: ChannelCredentials, private readonly options: ChannelOptions) {}

  private client(endpoint: string): GatewayInternalClient {
    let c = this.clients.get(endpoint);
    if (c === undefined) {
      c = new GatewayInternalClient(endpoint, this.credentials, this.options);
      this.clients.set(endpoint, c);
    }
    return c;
  }

  forward(endpoint: string, commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    const deadline = Date.now() + timeoutMs;
    return this.inFlight.run(`${endpoint}|${partition}|${commodity}`, deadline, () => this.call(endpoint, commodity, partition, deadline));
  }

  private call(endpoint: string, commodity: string, partition: number, deadline: number): Promise<ForwardResult> {
    return new Promise((resolve) => {
      this.client(endpoint).ownerSnapshot({ commodity, partition }, this.metadata, { deadline }, (err: ServiceError | null, response: OwnerSnapshotResponse) => {
        if (err) resolve({ ok: false, reason: `${endpoint}: ${err.details || err.message}` });
        else if (response.outcome !== OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED) resolve({ ok: false, reason: `${endpoint}: ${response.outcome === OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING ? 'draining' : 'not the owner'}` });
        else resolve({ ok: true, response });
      });
    });
  }

  /** Drops the client of a peer that went away (its endpoint is not in the ownership table any more). */
  retainOnly(endpoints: ReadonlySet<string>): void {
    for (const [endpoint, c] of this.clients) {
      if (endpoints.has(endpoint)) continue;
      c.close();
      this.clients.delete(endpoint);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
