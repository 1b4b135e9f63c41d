/**
 * The gateway's error catalogue: one stable code per failure a caller can see, and the one table that maps
 * it to a gRPC status. Handlers throw GatewayError; the call wrapper turns it into the status with its message.
 * Anything else thrown is a bug: logged, and answered INTERNAL without details.
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

export type GatewayErrorCode =
  | 'INVALID_ARGUMENT'
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

interface Mapping {
  readonly status: status;
  /** Whether the same call may succeed if retried later. */
  readonly retriable: boolean;
}

export const statusOfCode: Readonly<Record<GatewayErrorCode, Mapping>> = {
  INVALID_ARGUMENT: { status: status.INVALID_ARGUMENT, retriable: false },
  UNKNOWN_COMMODITY: { status: status.NOT_FOUND, retriable: false },
  NO_MODEL: { status: status.UNAVAILABLE, retriable: true },
  NO_PREDICTION_YET: { status: status.UNAVAILABLE, retriable: true },
  STALE: { status: status.UNAVAILABLE, retriable: true },
  DRAINING: { status: status.UNAVAILABLE, retriable: true },
  OWNER_UNAVAILABLE: { status: status.UNAVAILABLE, retriable: true },
  STORE_UNAVAILABLE: { status: status.UNAVAILABLE, retriable: true },
  DEADLINE_EXCEEDED: { status: status.DEADLINE_EXCEEDED, retriable: true },
  UNAUTHENTICATED: { status: status.UNAUTHENTICATED, retriable: false },
  PERMISSION_DENIED: { status: status.PERMISSION_DENIED, retriable: false },
  RATE_LIMITED: { status: status.RESOURCE_EXHAUSTED, retriable: true },
  INTERNAL: { status: status.INTERNAL, retriable: false },
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

/** The gRPC error sent for `err`; `carbon-error-code` and `carbon-retriable` trailers carry the catalogue code. */
export function toServiceError(err: GatewayError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set('carbon-error-code', err.code);
  metadata.set('carbon-retriable', String(err.retriable));
  return { code: statusOfCode[err.code].status, details: err.message, metadata };
}
