/**
 * Forwarding to the owner: GatewayInternal/OwnerSnapshot on the peer's internal endpoint, spoken as plain gRPC
 * over one HTTP/2 session per peer with node:http2. The method is one fixed unary call, and grpc-js's client
 * stack (resolver, load balancer, retry and interceptor layers) cost twice the CPU of the call itself on the
 * forwarded hop of every second request; the wire format is gRPC's (grpc-unary-call.ts), so any gRPC server
 * could answer it. Concurrent forwards of one commodity to one owner
 * share a call (single-flight.ts). Failures come back as a reason, never thrown: the router answers degraded.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import { OwnerSnapshotOutcome, OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { unaryCall } from './grpc-unary-call.ts';
import { OWNER_SNAPSHOT_PATH } from './grpc-wire.ts';
import { SingleFlight } from './single-flight.ts';
import type { PeerTransport } from './transport-credentials.ts';

export type ForwardResult =
  | { readonly ok: true; readonly response: OwnerSnapshotResponse }
  | { readonly ok: false; readonly reason: string };

/** Largest answer accepted from a peer (an answer is a few hundred bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class OwnerClients {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly inFlight = new SingleFlight<ForwardResult>();

  constructor(private readonly transport: PeerTransport) {}

  private session(endpoint: string): ClientHttp2Session {
    let s = this.sessions.get(endpoint);
    if (s === undefined || s.closed || s.destroyed) {
      const created = connect(`${this.transport.scheme}://${endpoint}`, this.transport.options);
      const forget = () => {
        if (this.sessions.get(endpoint) === created) this.sessions.delete(endpoint);
      };
      // A broken session fails its calls (each stream reports it) and is replaced on the next call.
      created.on('error', forget);
      created.on('goaway', forget);
      created.on('close', forget);
      created.unref();
      this.sessions.set(endpoint, created);
      s = created;
    }
    return s;
  }

  forward(endpoint: string, commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    return this.inFlight.run(`${endpoint}|${partition}|${commodity}`, Date.now() + timeoutMs, () => this.call(endpoint, commodity, partition, timeoutMs));
  }

  private async call(endpoint: string, commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    const fail = (why: string): ForwardResult => ({ ok: false, reason: `${endpoint}: ${why}` });
    const r = await unaryCall(() => this.session(endpoint), OWNER_SNAPSHOT_PATH, OwnerSnapshotRequest.encode({ commodity, partition }).finish(), timeoutMs, MAX_RESPONSE_BYTES);
    if (!r.ok) return fail(r.reason);
    let response: OwnerSnapshotResponse;
    try {
      response = OwnerSnapshotResponse.decode(r.message);
    } catch (err) {
      return fail(`undecodable answer: ${(err as Error).message}`);
    }
    if (response.outcome === OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED) return { ok: true, response };
    return fail(response.outcome === OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING ? 'draining' : 'not the owner');
  }

  /** Drops the session of a peer that went away (its endpoint is not in the ownership table any more). */
  retainOnly(endpoints: ReadonlySet<string>): void {
    for (const [endpoint, s] of this.sessions) {
      if (endpoints.has(endpoint)) continue;
      s.close();
      this.sessions.delete(endpoint);
    }
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
