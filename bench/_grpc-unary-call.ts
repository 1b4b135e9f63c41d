/**
 * One unary gRPC call over a node:http2 session, without grpc-js's client stack: the request framed as gRPC
 * (grpc-wire.ts), a local timeout that cancels the stream (and the same budget in grpc-timeout for the server),
 * a size limit on the answer, and the status from the headers (trailers-only) or the trailers. Failures come back
 * as a reason, never thrown. The gRPC bench's load generator speaks it (grpc.ts says why not grpc-js's client).
 */
import { constants, type ClientHttp2Session } from 'node:http2';
import { grpcFrame, grpcStatusOf, unframe } from '../gateway/grpc-wire.ts';

export type UnaryResult =
  | { readonly ok: true; readonly message: Uint8Array }
  /** `code` is the gRPC status when the server sent a non-OK one, undefined when the call failed before that. */
  | { readonly ok: false; readonly code: number | undefined; readonly reason: string };

/** What an attempt ends with when the server refused the stream unread: the call may be sent again. */
const REFUSED = Symbol('refused');
const refusedTwice: UnaryResult = { ok: false, code: undefined, reason: 'the server refused the stream twice (REFUSED_STREAM)' };

/**
 * `session` is called as the call starts; a throw fails the call like a stream that cannot open. A stream the
 * server refused unread (REFUSED_STREAM: it had just sent GOAWAY, ageing the connection out) is sent once more,
 * on the session `session` gives then, as gRPC clients do transparently.
 */
export async function unaryCall(
  session: () => ClientHttp2Session,
  path: string,
  request: Uint8Array,
  timeoutMs: number,
  maxResponseBytes: number,
): Promise<UnaryResult> {
  const first = await attempt(session, path, request, timeoutMs, maxResponseBytes);
  if (first !== REFUSED) return first;
  const second = await attempt(session, path, request, timeoutMs, maxResponseBytes);
  return second === REFUSED ? refusedTwice : second;
}

function attempt(
  session: () => ClientHttp2Session,
  path: string,
  request: Uint8Array,
  timeoutMs: number,
  maxResponseBytes: number,
): Promise<UnaryResult | typeof REFUSED> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (r: UnaryResult | typeof REFUSED) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const fail = (reason: string, code?: number) => settle({ ok: false, code, reason });
    const budgetMs = Math.max(1, Math.floor(timeoutMs));
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = session().request({
        ':method': 'POST',
        ':path': path,
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
      status = grpcStatusOf(headers);
    });
    stream.on('trailers', (trailers) => {
      status ??= grpcStatusOf(trailers);
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxResponseBytes) {
        stream.close(constants.NGHTTP2_CANCEL);
        return fail(`answer larger than ${maxResponseBytes} bytes`);
      }
      chunks.push(chunk);
    });
    stream.on('error', (err: Error) => (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM ? settle(REFUSED) : fail(err.message)));
    stream.on('close', () => {
      if (status === undefined) return fail('the stream ended without a gRPC status');
      if (status.code !== 0) return fail(status.message || `gRPC status ${status.code}`, status.code);
      const message = unframe(Buffer.concat(chunks, size));
      if (typeof message === 'string') return fail(message);
      settle({ ok: true, message });
    });
    stream.end(grpcFrame(request));
  });
}
