/**
 * The worker's internal endpoint: GatewayInternal/OwnerSnapshot served as plain gRPC over node:http2 (the method
 * is one fixed unary call, and grpc-js's server layers cost as much as the call itself on the forwarded hop of
 * every second request). Same wire format as any gRPC server (grpc-wire.ts): length-prefixed message,
 * grpc-timeout, grpc-status trailers; an unknown path is UNIMPLEMENTED. TLS and mutual TLS as the public port.
 * The listener is exclusive: node:cluster never shares it between workers.
 */
import { status } from '@grpc/grpc-js';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../platform/logger.ts';
import { OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { encodeGrpcMessage, grpcFrame, OWNER_SNAPSHOT_PATH, parseGrpcTimeoutMs, unframe } from './grpc-wire.ts';
import type { OwnerSnapshotHandler } from './internal-service.ts';

/** Largest request accepted (a request is a commodity id and a partition). */
const MAX_REQUEST_BYTES = 4_096;
/** Budget of a request that came without grpc-timeout. */
const DEFAULT_TIMEOUT_MS = 1_000;

export interface InternalServer {
  readonly port: number;
  /** Stops accepting, lets running calls finish for up to `graceMs`, then closes what is left. */
  close(graceMs: number): Promise<void>;
}

function fail(stream: ServerHttp2Stream, code: status, details: string): void {
  if (stream.destroyed || stream.headersSent) return;
  // Trailers-only: the status rides on the one HEADERS frame.
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, { endStream: true });
}

function answer(stream: ServerHttp2Stream, response: OwnerSnapshotResponse): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFrame(OwnerSnapshotResponse.encode(response).finish()));
}

function serve(handle: OwnerSnapshotHandler, log: Logger, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', (err: Error) => log.debug('gateway_internal_stream_failed', { err }));
  if (headers[':method'] !== 'POST' || headers[':path'] !== OWNER_SNAPSHOT_PATH) {
    fail(stream, status.UNIMPLEMENTED, `${String(headers[':path'])} is not served here (only ${OWNER_SNAPSHOT_PATH})`);
    return;
  }
  const deadlineMs = Date.now() + (parseGrpcTimeoutMs(headers['grpc-timeout'] as string | undefined) ?? DEFAULT_TIMEOUT_MS);
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
  });
  stream.on('end', () => {
    if (size > MAX_REQUEST_BYTES) return fail(stream, status.RESOURCE_EXHAUSTED, `request of ${size} bytes exceeds ${MAX_REQUEST_BYTES}`);
    const message = unframe(Buffer.concat(chunks, size));
    if (typeof message === 'string') return fail(stream, status.INVALID_ARGUMENT, message);
    let request: OwnerSnapshotRequest;
    try {
      request = OwnerSnapshotRequest.decode(message);
    } catch (err) {
      return fail(stream, status.INVALID_ARGUMENT, `undecodable request: ${(err as Error).message}`);
    }
    handle(request, deadlineMs).then(
      (a) => (a.ok ? answer(stream, a.response) : fail(stream, a.code, a.details)),
      (err: unknown) => {
        log.error('gateway_internal_call_failed', { err });
        fail(stream, status.INTERNAL, 'internal error; it is logged on the owner');
      },
    );
  });
}

export function listenInternal(config: GatewayConfig, handle: OwnerSnapshotHandler, log: Logger): Promise<InternalServer> {
  const s = config.security;
  const server: Http2Server | Http2SecureServer = s.kind === 'plaintext'
    ? createServer()
    : createSecureServer({
        cert: s.certPem,
        key: s.keyPem,
        ALPNProtocols: ['h2'],
        ...(s.mutual ? { ca: s.caPem, requestCert: true, rejectUnauthorized: true } : {}),
      });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('sessionError', (err: Error) => log.debug('gateway_internal_session_failed', { err }));
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => serve(handle, log, stream, headers));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: config.internalHost, port: config.internalPort, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', (err: Error) => log.error('gateway_internal_server_failed', { err }));
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : config.internalPort,
        close: (graceMs) => new Promise<void>((done) => {
          const force = setTimeout(() => {
            for (const session of sessions) session.destroy();
          }, graceMs);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            done();
          });
          for (const session of sessions) session.close();
        }),
      });
    });
  });
}
