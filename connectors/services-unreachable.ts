/**
 * The verdict of the start-up check of the real services (reachability.ts), in a module of its own so that the
 * command line can map it to its exit status without loading the services' client libraries.
 */

export interface Unreachable {
  readonly service: string;
  readonly variable: string;
  readonly address: string;
  readonly reason: string;
}

/** The exit status of a start stopped by an unreachable service (sysexits' EX_UNAVAILABLE). */
export const EXIT_SERVICES_UNREACHABLE = 69;

/** One or more services did not answer within the connect timeout. */
export class ServicesUnreachableError extends Error {
  override readonly name = 'ServicesUnreachableError';
  readonly code = 'SERVICES_UNREACHABLE';
  constructor(readonly unreachable: readonly Unreachable[], readonly timeoutMs: number) {
    super(unreachable.map((u) => `${u.service} at ${u.address} (${u.variable}) did not answer within ${timeoutMs} ms: ${u.reason}`).join('; '));
  }
}
