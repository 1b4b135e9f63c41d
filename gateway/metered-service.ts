/**
 * The size of each answer as grpc-js encodes it, without encoding it twice: the service's response serializers
 * are wrapped, and a message registered with onSerialized has its encoded length credited when grpc-js encodes
 * it (synchronously inside a unary callback, or later for a stream message waiting behind earlier ones).
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

const credits = new WeakMap<object, (bytes: number) => void>();

/** `credit` gets the encoded length of `message` when it is encoded (once). */
export function onSerialized(message: object, credit: (bytes: number) => void): void {
  credits.set(message, credit);
}

/** `service` with response serializers that credit the registered messages' sizes. */
export function meteredService<S extends ServiceDefinition>(service: S): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    const serialize = method.responseSerialize;
    wrapped[name] = {
      ...method,
      responseSerialize: (value: object): Buffer => {
        const bytes = serialize(value);
        const credit = credits.get(value);
        if (credit !== undefined) {
          credits.delete(value);
          credit(bytes.length);
        }
        return bytes;
      },
    };
  }
  return wrapped as S;
}
