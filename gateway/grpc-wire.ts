/**
 * The few pieces of the gRPC wire protocol over HTTP/2 that the internal hop (owner-client.ts, internal-server.ts)
 * and the gRPC bench's load generator (bench/_grpc-unary-call.ts) speak directly: message framing, the status
 * headers and the percent-encoded grpc-message. See "gRPC over HTTP2" (PROTOCOL-HTTP2.md in the grpc repository).
 */
import type { IncomingHttpHeaders } from 'node:http2';

export const OWNER_SNAPSHOTS_PATH = '/carbon.v1.GatewayInternal/OwnerSnapshots';

/** A gRPC message frame: compressed flag 0, big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Why a stream of frames cannot be read on. */
export interface FrameProblem {
  readonly kind: 'compressed' | 'too-large';
  readonly reason: string;
}

/**
 * The messages of a stream of gRPC frames, as its chunks arrive: a chunk may end inside a frame, or hold several.
 * A compressed frame, or one longer than `maxMessageBytes`, makes the rest of the stream unreadable.
 */
export class GrpcMessageReader {
  private partial: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** The messages that `chunk` completes (views into the chunks: decode them before the next push), or the problem. */
  push(chunk: Buffer): Uint8Array[] | FrameProblem {
    let rest = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
    const messages: Uint8Array[] = [];
    while (rest.length >= 5) {
      if (rest[0] !== 0) return { kind: 'compressed', reason: 'compressed message (no compression was negotiated)' };
      const length = rest.readUInt32BE(1);
      if (length > this.maxMessageBytes) return { kind: 'too-large', reason: `message of ${length} bytes exceeds ${this.maxMessageBytes}` };
      if (rest.length < 5 + length) break;
      messages.push(rest.subarray(5, 5 + length));
      rest = rest.subarray(5 + length);
    }
    this.partial = rest;
    return messages;
  }

  /** Bytes of a frame not complete yet (a stream that ends with some was cut short). */
  get pendingBytes(): number {
    return this.partial.length;
  }
}

/** The one message of a unary body, or why there is none. */
export function unframe(body: Buffer): Uint8Array | string {
  if (body.length < 5) return `body of ${body.length} bytes holds no message`;
  const reader = new GrpcMessageReader(Number.MAX_SAFE_INTEGER);
  const messages = reader.push(body);
  if (!Array.isArray(messages)) return messages.reason;
  if (messages.length !== 1 || reader.pendingBytes > 0) return `frame says ${body.readUInt32BE(1)} bytes, body has ${body.length - 5}`;
  return messages[0] as Uint8Array;
}

/** grpc-message: printable ASCII except '%' as is, every other byte percent-encoded (UTF-8). */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The status a gRPC server sent in these headers or trailers, if any. */
export function grpcStatusOf(headers: IncomingHttpHeaders): { readonly code: number; readonly message: string } | undefined {
  const code = headers['grpc-status'];
  if (code === undefined) return undefined;
  return { code: Number(code), message: decodeGrpcMessage(String(headers['grpc-message'] ?? '')) };
}

export function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A peer that did not encode: shown as sent.
    return raw;
  }
}
