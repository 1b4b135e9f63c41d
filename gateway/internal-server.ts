/**
 * The worker's internal endpoint: GatewayInternal/OwnerSnapshots served as plain gRPC over node:http2. A peer keeps
 * one stream open and sends every forwarded question on it; each is answered on the same stream as soon as its
 * answer is ready, carrying the question's id. Why not grpc-js's server: the method is one fixed stream, and
 * its per-message layers would cost more than the answer. Same wire format as any gRPC server (grpc-wire.ts):
 * length-prefixed messages, grpc-status trailers; an unknown path is UNIMPLEMENTED. TLS and mutual TLS as the
 * public port. The listener is exclusive: node:cluster never shares it between workers.
 */
import { status } from '@grpc/grpc-js';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../platform/logger.ts';
import { OwnerSnapshotOutcome, OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import type { GatewayConfig } from './gateway-config.ts';
import { encodeGrpcMessage, grpcFrame, GrpcMessageReader, OWNER_SNAPSHOTS_PATH } from './grpc-wire.ts';
import { ownerRefusal, type OwnerSnapshotHandler } from './internal-service.ts';
import type { TlsReloader } from './tls-reloader.ts';
import { secureContextOptions } from './transport-credentials.ts';

/** Largest question accepted (a question is a commodity id, a partition, an id and a budget). */
const MAX_REQUEST_BYTES = 4_096;
/** Budget of a question that came without one. */
const DEFAULT_BUDGET_MS = 1_000;

export interface InternalServer {
  readonly port: number;
  /** Stops accepting, lets the questions in flight be answered for up to `graceMs`, then closes what is left. */
  close(graceMs: number): Promise<void>;
}

/** One open OwnerSnapshots stream: answers questions until the peer half-closes it, the stream breaks, or the server closes. */
class AnswerStream {
  private inFlight = 0;
  private closing = false;
  private trailers: { code: status; details: string } = { code: status.OK, details: '' };
  private readonly reader = new GrpcMessageReader(MAX_REQUEST_BYTES);

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly handle: OwnerSnapshotHandler,
    private readonly workerId: string,
    private readonly log: Logger,
  ) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => {
      const { code, details } = this.trailers;
      stream.sendTrailers({ 'grpc-status': String(code), ...(details === '' ? {} : { 'grpc-message': encodeGrpcMessage(details) }) });
    });
    stream.on('data', (chunk: Buffer) => this.read(chunk));
    stream.on('end', () => {
      // A half-close inside a frame cut a question short: the stream ends with that error once the questions
      // before it are answered, not with OK as if nothing had been lost.
      const cut = this.reader.pendingBytes;
      if (cut > 0) this.trailers = { code: status.INVALID_ARGUMENT, details: `the stream ended inside a question (${cut} bytes of a frame)` };
      this.endWhenAnswered();
    });
  }

  /** No more questions: the stream ends (status OK) once those in flight are answered. */
  endWhenAnswered(): void {
    this.closing = true;
    if (this.inFlight === 0 && !this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }

  private read(chunk: Buffer): void {
    if (this.closing) return;
    const messages = this.reader.push(chunk);
    if (!Array.isArray(messages)) return this.fail(messages.kind === 'too-large' ? status.RESOURCE_EXHAUSTED : status.INVALID_ARGUMENT, messages.reason);
    for (const message of messages) {
      let request: OwnerSnapshotRequest;
      try {
        request = OwnerSnapshotRequest.decode(message);
      } catch (err) {
        return this.fail(status.INVALID_ARGUMENT, `undecodable question: ${(err as Error).message}`);
      }
      this.ask(request);
    }
  }

  private ask(request: OwnerSnapshotRequest): void {
    this.inFlight++;
    this.handle(request, Date.now() + (request.budgetMs || DEFAULT_BUDGET_MS))
      .then(
        (response) => this.answer(request.id, response),
        (err: unknown) => {
          this.log.error('gateway_internal_call_failed', { err });
          this.answer(request.id, ownerRefusal(this.workerId, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED, 'internal error; it is logged on the owner'));
        },
      )
      .catch((err: unknown) => this.log.error('gateway_internal_answer_failed', { err }));
  }

  private answer(id: number, response: OwnerSnapshotResponse): void {
    this.inFlight--;
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.write(grpcFrame(OwnerSnapshotResponse.encode({ ...response, id }).finish()));
    if (this.closing) this.endWhenAnswered();
  }

  /** The stream cannot be read on: it ends with `code`, and the peer fails the questions it still waits for. */
  private fail(code: status, details: string): void {
    this.trailers = { code, details };
    this.closing = true;
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }
}

function refuse(stream: ServerHttp2Stream, code: status, details: string): void {
  // Trailers-only: the status rides on the one HEADERS frame.
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) }, { endStream: true });
}

export function listenInternal(config: GatewayConfig, tls: TlsReloader | undefined, workerId: string, handle: OwnerSnapshotHandler, log: Logger): Promise<InternalServer> {
  const mutual = config.security.kind === 'tls' && config.security.mutual;
  let server: Http2Server | Http2SecureServer;
  if (tls === undefined) {
    server = createServer();
  } else {
    const secure = createSecureServer({ ...secureContextOptions(tls.current), ALPNProtocols: ['h2'], ...(mutual ? { requestCert: true, rejectUnauthorized: true } : {}) });
    // New handshakes get the rotated certificates; open sessions keep theirs.
    tls.onChange((m) => secure.setSecureContext(secureContextOptions(m)));
    server = secure;
  }
  const sessions = new Set<ServerHttp2Session>();
  const streams = new Set<AnswerStream>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('sessionError', (err: Error) => log.debug('gateway_internal_session_failed', { err }));
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', (err: Error) => log.debug('gateway_internal_stream_failed', { err }));
    if (headers[':method'] !== 'POST' || headers[':path'] !== OWNER_SNAPSHOTS_PATH) {
      return refuse(stream, status.UNIMPLEMENTED, `${String(headers[':path'])} is not served here (only ${OWNER_SNAPSHOTS_PATH})`);
    }
    const answers = new AnswerStream(stream, handle, workerId, log);
    streams.add(answers);
    stream.on('close', () => streams.delete(answers));
  });
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
          // A peer's stream stays open while it lives: each ends once its questions in flight are answered.
          for (const answers of streams) answers.endWhenAnswered();
        }),
      });
    });
  });
}
