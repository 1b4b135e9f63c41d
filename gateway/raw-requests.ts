/**
 * A service whose handlers get each request as the bytes that came, not decoded. grpc-js answers INTERNAL ("Error
 * deserializing request"), before any handler runs, when a method's deserializer throws; with the bytes kept, the
 * call wrapper decodes them itself and answers bytes that are not the method's message INVALID_ARGUMENT, naming
 * what was wrong, authenticated and counted like any call.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

export type RawRequestService<S extends ServiceDefinition> = { [K in keyof S]: MethodDefinition<Buffer, unknown> };

/** `service` with deserializers that keep the request bytes (they cannot throw). */
export function rawRequests<S extends ServiceDefinition>(service: S): RawRequestService<S> {
  const raw: Record<string, MethodDefinition<Buffer, unknown>> = {};
  for (const [name, method] of Object.entries(service)) raw[name] = { ...method, requestDeserialize: (bytes: Buffer): Buffer => bytes };
  return raw as RawRequestService<S>;
}
