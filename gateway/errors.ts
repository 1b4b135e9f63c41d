/**
 * The gateway's error catalogue: one stable code per failure a caller can see, and the one table that maps
 * it to a gRPC status, says whether a retry may succeed and whose fault it is. Handlers throw GatewayError; the
 * call wrapper turns it into the status with its message. Anything else thrown is a bug: logged, and answered
 * INTERNAL without details.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

export type GatewayErrorCode =
  | 'INVALID_ARGUMENT'
  | 'REQUEST_TOO_LARGE'
  | 'UNSUPPORTED_ENCODING'
  | 'UNKNOWN_COMMODITY'
  | 'NO_MODEL'
  | 'NO_PREDICTION_YET'
  | 'STALE'
  | 'DRAINING'
  | 'OWNER_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RATE_LIMITED'
  | 'INTERNAL';

/**
 * Whose the failure is, the `fault` label of carbon_grpc_calls_total: `client`, the call cannot succeed as made
 * (its request, credentials, quota or deadline, or a commodity with no prediction to give: the API answering as
 * specified); `server`, the platform failed a call it should have answered. Only `server` counts against the
 * error-rate alert.
 */
export type Fault = 'client' | 'server';

interface Mapping {
  readonly status: status;
  /** Whether the same call may succeed if retried later. */
  readonly retriable: boolean;
  readonly fault: Fault;
}

export const statusOfCode: Readonly<Record<GatewayErrorCode, Mapping>> = {
  INVALID_ARGUMENT: { status: status.INVALID_ARGUMENT, retriable: false, fault: 'client' },
  REQUEST_TOO_LARGE: { status: status.RESOURCE_EXHAUSTED, retriable: false, fault: 'client' },
  UNSUPPORTED_ENCODING: { status: status.UNIMPLEMENTED, retriable: false, fault: 'client' },
  UNKNOWN_COMMODITY: { status: status.NOT_FOUND, retriable: false, fault: 'client' },
  NO_MODEL: { status: status.UNAVAILABLE, retriable: true, fault: 'client' },
  NO_PREDICTION_YET: { status: status.UNAVAILABLE, retriable: true, fault: 'client' },
  STALE: { status: status.UNAVAILABLE, retriable: true, fault: 'client' },
  DRAINING: { status: status.UNAVAILABLE, retriable: true, fault: 'server' },
  OWNER_UNAVAILABLE: { status: status.UNAVAILABLE, retriable: true, fault: 'server' },
  STORE_UNAVAILABLE: { status: status.UNAVAILABLE, retriable: true, fault: 'server' },
  // The server's, unless the call's own deadline was too tight to meet (call-accounting.ts decides per call).
  DEADLINE_EXCEEDED: { status: status.DEADLINE_EXCEEDED, retriable: true, fault: 'server' },
  UNAUTHENTICATED: { status: status.UNAUTHENTICATED, retriable: false, fault: 'client' },
  PERMISSION_DENIED: { status: status.PERMISSION_DENIED, retriable: false, fault: 'client' },
  RATE_LIMITED: { status: status.RESOURCE_EXHAUSTED, retriable: true, fault: 'client' },
  INTERNAL: { status: status.INTERNAL, retriable: false, fault: 'server' },
};

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(readonly code: GatewayErrorCode, message: string) {
    super(message);
  }

  get retriable(): boolean {
    return statusOfCode[this.code].retriable;
  }
}

/** `field: message`, the form every INVALID_ARGUMENT takes, so that a caller knows what to fix. */
export function invalidArgument(field: string, message: string): GatewayError {
  return new GatewayError('INVALID_ARGUMENT', `${field}: ${message}`);
}

export const ERROR_CODE_TRAILER = 'carbon-error-code';
const RETRIABLE_TRAILER = 'carbon-retriable';

export function isGatewayErrorCode(value: unknown): value is GatewayErrorCode {
  return typeof value === 'string' && Object.hasOwn(statusOfCode, value);
}

/** The trailers that carry the catalogue code: `carbon-error-code` and `carbon-retriable`. */
export function errorTrailers(code: GatewayErrorCode, metadata = new Metadata()): Metadata {
  metadata.set(ERROR_CODE_TRAILER, code);
  metadata.set(RETRIABLE_TRAILER, String(statusOfCode[code].retriable));
  return metadata;
}

/** The gRPC error sent for `err`, with the catalogue code in its trailers. */
export function toServiceError(err: GatewayError): Partial<ServiceError> {
  return { code: statusOfCode[err.code].status, details: err.message, metadata: errorTrailers(err.code) };
}
