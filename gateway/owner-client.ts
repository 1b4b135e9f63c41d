/**
 * Forwarding to the owner: GatewayInternal/OwnerSnapshot on the peer's internal endpoint, spoken as plain gRPC
 * over one HTTP/2 session per peer with node:http2. The method is one fixed unary call, and grpc-js's client
 * stack (resolver, load balancer, retry and interceptor layers) cost twice the CPU of the call itself on the
 * forwarded hop of every second request; the wire format is gRPC's (length-prefixed message, grpc-timeout,
 * grpc-status trailers: grpc-wire.ts), so any gRPC server could answer it. Concurrent forwards of one commodity to one owner
 * share a call (single-flight.ts). Failures come back as a reason, never thrown: the router answers degraded.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { OwnerSnapshotOutcome, OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { decodeGrpcMessage, grpcFrame, OWNER_SNAPSHOT_PATH, unframe } from './grpc-wire.ts';
import { SingleFlight } from './single-flight.ts';
import type { PeerTransport } from './transport-credentials.ts';

export type ForwardResult =
  | { readonly ok: true; readonly response: OwnerSnapshotResponse }
  | { readonly ok: false; readonly reason: string };

/** Largest answer accepted from a peer (an answer is a few hundred bytes). */
const MAX_RESPONSE_BYTES = 64 * 1024;

function statusOf(headers: IncomingHttpHeaders): { code: number; message: string } | undefined {
  const code = headers['grpc-status'];
  if (code === undefined) return undefined;
  return { code: Number(code), message: decodeGrpcMessage(String(headers['grpc-message'] ?? '')) };
}

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

  private call(endpoint: string, commodity: string, partition: number, timeoutMs: number): Promise<ForwardResult> {
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (r: ForwardResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const fail = (why: string) => settle({ ok: false, reason: `${endpoint}: ${why}` });
      const budgetMs = Math.max(1, Math.floor(timeoutMs));
      let stream: ReturnType<ClientHttp2Session['request']>;
      try {
        stream = this.session(endpoint).request({
          ':method': 'POST',
          ':path': OWNER_SNAPSHOT_PATH,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${budgetMs}m`,
        });
      } catch (err) {
        return fail(`cannot open a stream: ${(err as Error).message}`);
      }
      timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        fail(`no answer within ${budgetMs} ms`);
      }, budgetMs);
      const chunks: Buffer[] = [];
      let size = 0;
      let status: { code: number; message: string } | undefined;
      stream.on('response', (headers) => {
        // Trailers-only: an error status comes with the headers and no body.
        status = statusOf(headers);
      });
      stream.on('trailers', (trailers) => {
        status ??= statusOf(trailers);
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          stream.close(constants.NGHTTP2_CANCEL);
          return fail(`answer larger than ${MAX_RESPONSE_BYTES} bytes`);
        }
        chunks.push(chunk);
      });
      stream.on('error', (err: Error) => fail(err.message));
      stream.on('close', () => {
        if (status === undefined) return fail('the stream ended without a gRPC status');
        if (status.code !== 0) return fail(status.message || `gRPC status ${status.code}`);
        const message = unframe(Buffer.concat(chunks, size));
        if (typeof message === 'string') return fail(message);
        let response: OwnerSnapshotResponse;
        try {
          response = OwnerSnapshotResponse.decode(message);
        } catch (err) {
          return fail(`undecodable answer: ${(err as Error).message}`);
        }
        if (response.outcome === OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED) settle({ ok: true, response });
        else fail(response.outcome === OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING ? 'draining' : 'not the owner');
      });
      stream.end(grpcFrame(OwnerSnapshotRequest.encode({ commodity, partition }).finish()));
    });
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
