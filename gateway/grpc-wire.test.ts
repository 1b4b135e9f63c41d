import test from 'ava';
import { decodeGrpcMessage, encodeGrpcMessage, grpcFrame, parseGrpcTimeoutMs, unframe } from './grpc-wire.ts';

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
});

test('grpc-timeout in every unit, and nothing for malformed values', (t) => {
  t.is(parseGrpcTimeoutMs('250m'), 250);
  t.is(parseGrpcTimeoutMs('5S'), 5_000);
  t.is(parseGrpcTimeoutMs('2M'), 120_000);
  t.is(parseGrpcTimeoutMs('1H'), 3_600_000);
  t.is(parseGrpcTimeoutMs('1500u'), 1.5);
  t.is(parseGrpcTimeoutMs('2000000n'), 2);
  for (const bad of [undefined, '', '250', 'm', '123456789m', '5s', '-1m']) t.is(parseGrpcTimeoutMs(bad), undefined, String(bad));
});

test('grpc-message percent-encodes what is not printable ASCII, and "%", and decodes back', (t) => {
  const text = 'owner could not answer for WTI: 100% busy; prix à 3€\n';
  const encoded = encodeGrpcMessage(text);
  t.regex(encoded, /^[\x20-\x7e]+$/);
  t.true(encoded.includes('100%25 busy'));
  t.is(decodeGrpcMessage(encoded), text);
  t.is(decodeGrpcMessage('100% sure'), '100% sure', 'an unencoded "%" from a peer is shown as sent');
});
