import test from 'ava';
import { ConfigError } from '../platform/config.ts';
import { parseTenants } from './tenants.ts';

const hash = (c: string): string => c.repeat(64);
const tenant = (name: string, h: string): object => ({ name, tokenSha256: [hash(h)], commodities: '*', ratePerSecond: 10 });

test('a tenants file naming one tenant twice is refused, naming the entry (found by fuzzing: both were taken)', (t) => {
  const err = t.throws(() => parseTenants(JSON.stringify({ tenants: [tenant('acme', 'a'), tenant('acme', 'b')] })), { instanceOf: ConfigError, message: /^CARBON_TOKENS_FILE: expected each tenant name once, got "tenants\.1\.name: acme"/ });
  t.is(err?.variable, 'CARBON_TOKENS_FILE');
  t.deepEqual(parseTenants(JSON.stringify({ tenants: [tenant('acme', 'a'), tenant('beta', 'b')] })).map((r) => r.name), ['acme', 'beta']);
});
