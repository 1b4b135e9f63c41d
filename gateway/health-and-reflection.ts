/**
 * The standard services that let generic tools work with nothing but the server: grpc.health.v1 (per service:
 * "" for the server and carbon.v1.PredictionService) and server reflection (v1 and v1alpha) over the
 * descriptors of proto/carbon/v1/prediction_service.proto and grpc/health/v1/health.proto. One health status
 * serves every server it is added to (the public one and the plaintext health-only listener).
 */
import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { fileURLToPath } from 'node:url';

export const PUBLIC_SERVICE = 'carbon.v1.PredictionService';

const protoRoot = fileURLToPath(new URL('../proto', import.meta.url));

export interface Health {
  /** SERVING, or NOT_SERVING once the worker drains. */
  setServing(serving: boolean): void;
  /** Serves this status on `server` too. */
  addTo(server: Server): void;
}

export function createHealth(): Health {
  const health = new HealthImplementation({ '': 'SERVING', [PUBLIC_SERVICE]: 'SERVING' });
  return {
    setServing(serving) {
      const s = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', s);
      health.setStatus(PUBLIC_SERVICE, s);
    },
    addTo(server) {
      health.addToServer(server);
    },
  };
}

export function addHealthAndReflection(server: Server): Health {
  const health = createHealth();
  health.addTo(server);
  const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
  const definitions = {
    ...loadSync('carbon/v1/prediction_service.proto', { ...options, includeDirs: [protoRoot] }),
    ...loadSync(healthProtoPath, options),
  };
  new ReflectionService(definitions).addToServer(server);
  return health;
}
