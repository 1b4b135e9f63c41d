/**
 * The few pieces of the gRPC wire protocol over HTTP/2 that the internal hop speaks directly (owner-client.ts,
 * internal-server.ts): message framing, the grpc-timeout header and the percent-encoded grpc-message. See
 * "gRPC over HTTP2" (PROTOCOL-HTTP2.md in the grpc repository).
 */

export const OWNER_SNAPSHOT_PATH = '/carbon.v1.GatewayInternal/OwnerSnapshot';

/** A gRPC message frame: compressed flag 0, big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The one message of a unary body, or why there is none. */
export function unframe(body: Buffer): Uint8Array | string {
  if (body.length < 5) return `body of ${body.length} bytes holds no message`;
  if (body[0] !== 0) return 'compressed message (no compression was negotiated)';
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return `frame says ${length} bytes, body has ${body.length - 5}`;
  return body.subarray(5);
}

const timeoutUnitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** The grpc-timeout header (`250m`, `5S`, up to 8 digits and a unit) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeoutMs(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (timeoutUnitMs[m[2] as string] as number);
}

/** grpc-message: printable ASCII except '%' as is, every other byte percent-encoded (UTF-8). */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A peer that did not encode: shown as sent.
    return raw;
  }
}
