/** Transport security from the gateway's config: the public and internal servers, and the peer connections. */
import { ServerCredentials } from '@grpc/grpc-js';
import type { SecureClientSessionOptions } from 'node:http2';
import type { GatewayConfig } from './gateway-config.ts';

export function serverCredentials(config: GatewayConfig): ServerCredentials {
  const s = config.security;
  if (s.kind === 'plaintext') return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(s.caPem ?? null, [{ cert_chain: s.certPem, private_key: s.keyPem }], s.mutual);
}

/** How one worker reaches another's internal endpoint (HTTP/2): the same certificates, trusting the CA (or the cert). */
export interface PeerTransport {
  readonly scheme: 'http' | 'https';
  readonly options: SecureClientSessionOptions;
}

export function peerTransport(config: GatewayConfig): PeerTransport {
  const s = config.security;
  if (s.kind === 'plaintext') return { scheme: 'http', options: {} };
  return {
    scheme: 'https',
    options: {
      ca: s.caPem ?? s.certPem,
      ...(s.mutual ? { cert: s.certPem, key: s.keyPem } : {}),
      // The name the peer's certificate must carry (workers dial each other by address, which certificates rarely name).
      ...(config.tlsServerName === undefined ? {} : { servername: config.tlsServerName }),
      ALPNProtocols: ['h2'],
    },
  };
}
