import test from 'ava';
import { grpcFrame, unframe } from './owner-client.ts';

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
