/** The internal endpoint speaks gRPC: the generated grpc-js client calls it, and OwnerClients reaches it. */
import test from 'ava';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { GatewayInternalClient, OwnerSnapshotOutcome, type OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { loadGatewayConfig } from './gateway-config.ts';
import { listenInternal } from './internal-server.ts';
import type { OwnerSnapshotHandler } from './internal-service.ts';
import { OwnerClients } from './owner-client.ts';
import { peerTransport } from './transport-credentials.ts';

const env = { CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
const config = loadGatewayConfig(loadConfig(env), env);
const quiet = createLogger({}, () => undefined);

/** Owns WTI only; takes its time from the request's deadline; fails for BOOM. */
const handler: OwnerSnapshotHandler = async ({ commodity, partition }, deadlineMs) => {
  if (commodity === 'BOOM') return { ok: false, code: status.UNAVAILABLE, details: 'owner could not answer for BOOM: 100% busy' };
  const outcome = commodity === 'WTI' ? OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED : OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER;
  return { ok: true, response: { outcome, modelVersion: partition, fromActor: true, owner: `deadline-in-${Math.round((deadlineMs - Date.now()) / 1_000)}s` } };
};

test('a grpc-js client of the generated stubs gets answers, statuses with their messages, and the deadline it sent', async (t) => {
  const server = await listenInternal(config, handler, quiet);
  const client = new GatewayInternalClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await server.close(100);
  });
  const ask = (commodity: string) => new Promise<{ res?: OwnerSnapshotResponse; err?: ServiceError }>((resolve) => {
    client.ownerSnapshot({ commodity, partition: 3 }, new Metadata(), { deadline: Date.now() + 5_000 }, (err, res) => resolve(err ? { err } : { res }));
  });
  const owned = await ask('WTI');
  t.is(owned.res?.outcome, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED);
  t.is(owned.res?.modelVersion, 3);
  t.is(owned.res?.owner, 'deadline-in-5s');
  t.is((await ask('BRENT')).res?.outcome, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER);
  const failed = await ask('BOOM');
  t.is(failed.err?.code, status.UNAVAILABLE);
  t.is(failed.err?.details, 'owner could not answer for BOOM: 100% busy');
  const unknown = await new Promise<ServiceError | null>((resolve) => {
    client.makeUnaryRequest('/carbon.v1.GatewayInternal/Nothing', () => Buffer.alloc(0), () => ({}), {}, (err) => resolve(err));
  });
  t.is(unknown?.code, status.UNIMPLEMENTED);
});

test('OwnerClients forwards to it: owned answers, and the reason of every failure', async (t) => {
  const server = await listenInternal(config, handler, quiet);
  const peers = new OwnerClients(peerTransport(config));
  t.teardown(async () => {
    peers.close();
    await server.close(100);
  });
  const endpoint = `127.0.0.1:${server.port}`;
  const owned = await peers.forward(endpoint, 'WTI', 5, 1_000);
  t.true(owned.ok && owned.response.modelVersion === 5 && owned.response.owner === 'deadline-in-1s');
  t.deepEqual(await peers.forward(endpoint, 'BRENT', 5, 1_000), { ok: false, reason: `${endpoint}: not the owner` });
  t.deepEqual(await peers.forward(endpoint, 'BOOM', 5, 1_000), { ok: false, reason: `${endpoint}: owner could not answer for BOOM: 100% busy` });
  await server.close(100);
  const gone = await peers.forward(endpoint, 'WTI', 5, 1_000);
  t.false(gone.ok, 'a peer that went away');
});
