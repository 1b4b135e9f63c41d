/**
 * A gRPC call as raw HTTP/2, for the fuzz tests: any headers (metadata, grpc-timeout, grpc-encoding, a wrong
 * content-type), any body (a message frame that lies about its length, a compressed flag, two frames, none), and
 * whatever comes back: the HTTP status, the gRPC status from the headers (trailers-only) or the trailers, and the
 * carbon trailers. grpc-js's client refuses to send most of these, hence node:http2 itself.
 */
import { constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { grpcStatusOf } from '../gateway/grpc-wire.ts';

export interface RawCall {
  readonly path: string;
  /** Headers besides :method and :path (content-type and te included: a fuzz case may change them). */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** Cancel the call (RST_STREAM CANCEL) after this long without an answer; undefined: wait for one. */
  readonly cancelAfterMs?: number | undefined;
}

export type RawAnswer =
  /** The server ended the call with a gRPC status. */
  | { readonly kind: 'status'; readonly code: number; readonly message: string; readonly errorCode: string | undefined; readonly httpStatus: number }
  /** An HTTP answer without a gRPC status (a request that is not gRPC). */
  | { readonly kind: 'http'; readonly httpStatus: number }
  /** The client cancelled before any answer. */
  | { readonly kind: 'cancelled' }
  /** The stream or session failed, or nothing came within `giveUpMs`. */
  | { readonly kind: 'failed'; readonly reason: string };

/** The end of `call` on `session`; never rejects. */
export function rawCall(session: ClientHttp2Session, call: RawCall, giveUpMs = 30_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const settle = (a: RawAnswer): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve(a);
    };
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = session.request({ ':method': 'POST', ':path': call.path, ...call.headers });
    } catch (err) {
      settle({ kind: 'failed', reason: `cannot open a stream: ${(err as Error).message}` });
      return;
    }
    let httpStatus = 0;
    let answered = false;
    const statusFrom = (headers: Parameters<typeof grpcStatusOf>[0]): void => {
      const s = grpcStatusOf(headers);
      if (s === undefined) return;
      const code = headers['carbon-error-code'];
      settle({ kind: 'status', code: s.code, message: s.message, errorCode: typeof code === 'string' ? code : undefined, httpStatus });
    };
    stream.on('response', (headers) => {
      answered = true;
      httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
      statusFrom(headers);
    });
    stream.on('trailers', statusFrom);
    // Answers are drained, not kept: the fuzz tests judge statuses.
    stream.on('data', () => undefined);
    stream.on('end', () => settle(httpStatus !== 0 ? { kind: 'http', httpStatus } : { kind: 'failed', reason: 'stream ended without an answer' }));
    stream.on('error', (err) => settle({ kind: 'failed', reason: `stream error: ${err.message}` }));
    stream.on('close', () => settle({ kind: 'failed', reason: `stream closed (code ${stream.rstCode}) without an answer` }));
    if (call.cancelAfterMs !== undefined) {
      timers.push(setTimeout(() => {
        if (answered) return;
        stream.close(constants.NGHTTP2_CANCEL);
        settle({ kind: 'cancelled' });
      }, call.cancelAfterMs));
    }
    timers.push(setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      settle({ kind: 'failed', reason: `no answer within ${giveUpMs} ms` });
    }, giveUpMs));
    stream.end(call.body);
  });
}
