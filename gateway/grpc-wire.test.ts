import test from 'ava';
import { decodeGrpcMessage, encodeGrpcMessage, grpcFrame, GrpcMessageReader, unframe } from './grpc-wire.ts';

test('a gRPC frame is an uncompressed flag, the big-endian length and the message; unframe gives the message back', (t) => {
  const message = Uint8Array.from([10, 3, 87, 84, 73, 16, 5]);
  const frame = grpcFrame(message);
  t.deepEqual([...frame.subarray(0, 5)], [0, 0, 0, 0, 7]);
  t.deepEqual(unframe(frame), Buffer.from(message));
  t.deepEqual(unframe(grpcFrame(new Uint8Array(0))), Buffer.alloc(0), 'an empty message (all fields default)');
});

test('a body that is not exactly one uncompressed frame is refused with the reason', (t) => {
  t.regex(unframe(Buffer.from([0, 0, 0])) as string, /holds no message/);
  t.regex(unframe(Buffer.from([1, 0, 0, 0, 0])) as string, /compressed/);
  t.regex(unframe(Buffer.from([0, 0, 0, 0, 3, 1])) as string, /says 3 bytes, body has 1/);
  t.regex(unframe(Buffer.concat([grpcFrame(Uint8Array.from([1])), grpcFrame(Uint8Array.from([2]))])) as string, /says 1 bytes, body has 7/, 'two frames');
});

test('the stream reader gives each message once it is whole, however the frames are cut into chunks', (t) => {
  const messages = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i % 251)];
  const wire = Buffer.concat(messages.map(grpcFrame));
  for (const chunkBytes of [1, 2, 5, 7, 64, wire.length]) {
    const reader = new GrpcMessageReader(1_000);
    const seen: number[][] = [];
    for (let at = 0; at < wire.length; at += chunkBytes) {
      const out = reader.push(wire.subarray(at, at + chunkBytes));
      if (!Array.isArray(out)) return t.fail(out.reason);
      seen.push(...out.map((m) => [...m]));
    }
    t.deepEqual(seen, messages.map((m) => [...m]), `chunks of ${chunkBytes} bytes`);
    t.is(reader.pendingBytes, 0);
  }
  const cut = new GrpcMessageReader(1_000);
  t.deepEqual(cut.push(wire.subarray(0, 10)), [[1, 2, 3]].map((m) => Buffer.from(m)));
  t.is(cut.pendingBytes, 2, 'the start of the second frame waits');
});

test('the stream reader refuses a compressed frame and one over its size limit, before the message arrives', (t) => {
  t.like(new GrpcMessageReader(10).push(Buffer.from([1, 0, 0, 0, 1])), { kind: 'compressed' });
  t.deepEqual(new GrpcMessageReader(10).push(Buffer.from([0, 0, 0, 0, 11])), { kind: 'too-large', reason: 'message of 11 bytes exceeds 10' });
});

test('grpc-message percent-encodes what is not printable ASCII, and "%", and decodes back', (t) => {
  const text = 'owner could not answer for WTI: 100% busy; prix à 3€\n';
  const encoded = encodeGrpcMessage(text);
  t.regex(encoded, /^[\x20-\x7e]+$/);
  t.true(encoded.includes('100%25 busy'));
  t.is(decodeGrpcMessage(encoded), text);
  t.is(decodeGrpcMessage('100% sure'), '100% sure', 'an unencoded "%" from a peer is shown as sent');
});
