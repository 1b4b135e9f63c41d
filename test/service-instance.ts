/**
 * An instance of Kafka, Postgres and Redis of a test's own (deploy/local/services.sh with SERVICES_INSTANCE), for
 * tests that stop and restart the services: the shared ones stay up for every other test.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ServiceEndpoints } from './services.ts';

const run = promisify(execFile);

export type RestartableService = 'kafka' | 'postgres' | 'redis';

export interface ServiceInstance extends ServiceEndpoints {
  /** Stops the service, leaves it down `downSeconds`, starts it again; resolves once it answers. */
  restart(service: RestartableService, downSeconds: number): Promise<void>;
  /** Stops all three. */
  down(): Promise<void>;
}

export async function serviceInstance(name: string, portBase: number): Promise<ServiceInstance> {
  const env = { ...process.env, SERVICES_INSTANCE: name, SERVICES_PORT_BASE: String(portBase) };
  const services = (...args: string[]) => run('bash', ['deploy/local/services.sh', ...args], { env, timeout: 180_000 });
  await services('up');
  return {
    kafkaBrokers: [`127.0.0.1:${portBase}`],
    pgAdminUrl: `postgres://postgres@127.0.0.1:${portBase + 2}/postgres`,
    redisUrl: `redis://127.0.0.1:${portBase + 3}`,
    async restart(service, downSeconds) {
      await services('restart', service, String(downSeconds));
    },
    async down() {
      await services('down');
    },
  };
}
