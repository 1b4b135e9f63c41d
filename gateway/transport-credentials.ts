/**
 * Transport security from the gateway's config: the public and internal servers, and the peer connections, all
 * following the TLS files as the reloader (tls-reloader.ts) sees them: a new certificate, key or CA serves the
 * connections opened after it, and open ones keep theirs.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureClientSessionOptions } from 'node:http2';
import type { SecureContextOptions } from 'node:tls';
import type { GatewayConfig } from './gateway-config.ts';
import type { TlsMaterial, TlsReloader } from './tls-reloader.ts';

export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.certPem, key: m.keyPem, ...(m.caPem === undefined ? {} : { ca: m.caPem }) };
}

/**
 * Server credentials whose certificate follows the reloader: grpc-js calls setSecureContext on its listening
 * servers for each update (ServerCredentials' watcher protocol), which changes what new handshakes present.
 */
class ReloadingServerCredentials extends ServerCredentials {
  constructor(tls: TlsReloader, mutual: boolean) {
    super({ requestCert: mutual, rejectUnauthorized: mutual }, secureContextOptions(tls.current));
    tls.onChange((m) => this.updateSecureContextOptions(secureContextOptions(m)));
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(config: GatewayConfig, tls: TlsReloader | undefined): ServerCredentials {
  if (config.security.kind === 'plaintext' || tls === undefined) return ServerCredentials.createInsecure();
  return new ReloadingServerCredentials(tls, config.security.mutual);
}

/** How one worker reaches another's internal endpoint (HTTP/2): the same certificates, trusting the CA (or the cert). */
export interface PeerTransport {
  readonly scheme: 'http' | 'https';
  /** Read for each new connection: the certificates current then. */
  readonly options: SecureClientSessionOptions;
}

export function peerTransport(config: GatewayConfig, tls: TlsReloader | undefined): PeerTransport {
  if (config.security.kind === 'plaintext' || tls === undefined) return { scheme: 'http', options: {} };
  const mutual = config.security.mutual;
  return {
    scheme: 'https',
    get options(): SecureClientSessionOptions {
      const m = tls.current;
      return {
        ca: m.caPem ?? m.certPem,
        ...(mutual ? { cert: m.certPem, key: m.keyPem } : {}),
        // The name the peer's certificate must carry (workers dial each other by address, which certificates rarely name).
        ...(config.tlsServerName === undefined ? {} : { servername: config.tlsServerName }),
        ALPNProtocols: ['h2'],
      };
    },
  };
}
