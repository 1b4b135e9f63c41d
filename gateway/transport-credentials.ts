/** gRPC credentials from the gateway's transport security: the public and internal servers, and peer channels. */
import { ChannelCredentials, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { GatewayConfig } from './gateway-config.ts';

export function serverCredentials(config: GatewayConfig): ServerCredentials {
  const s = config.security;
  if (s.kind === 'plaintext') return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(s.caPem ?? null, [{ cert_chain: s.certPem, private_key: s.keyPem }], s.mutual);
}

/** How one worker reaches another's internal endpoint: the same certificates, trusting the CA (or the cert). */
export function peerChannel(config: GatewayConfig): { credentials: ChannelCredentials; options: ChannelOptions } {
  const s = config.security;
  const options: ChannelOptions = { 'grpc.keepalive_time_ms': 30_000, 'grpc.enable_channelz': 0 };
  if (s.kind === 'plaintext') return { credentials: ChannelCredentials.createInsecure(), options };
  if (config.tlsServerName !== undefined) options['grpc.ssl_target_name_override'] = config.tlsServerName;
  return {
    credentials: ChannelCredentials.createSsl(s.caPem ?? s.certPem, s.mutual ? s.keyPem : null, s.mutual ? s.certPem : null),
    options,
  };
}
