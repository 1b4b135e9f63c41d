/**
 * `carbon predict <commodity>`: a gRPC client of PredictionService/Predict built from the generated stubs, for
 * people without grpcurl and for checking a running platform from scripts.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PredictionServiceClient, PredictRequest, PredictResponse } from '../../proto/gen/carbon/v1/prediction_service.ts';

interface PredictOptions {
  readonly address: string;
  readonly token?: string;
  readonly caFile?: string;
  readonly acceptStale?: boolean;
  readonly timeout: string;
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict <commodity>')
    .description("ask the platform for a commodity's latest prediction over gRPC (PredictionService/Predict)")
    .option('--address <host:port>', 'the gateway', '127.0.0.1:50051')
    .option('--token <token>', 'API token (sent as "authorization: Bearer <token>"); needed unless the server is local and anonymous')
    .option('--ca-file <pem>', 'CA certificate: connect with TLS')
    .option('--accept-stale', 'accept a prediction older than the server\'s staleness bound')
    .option('--timeout <ms>', 'deadline of the call in milliseconds', '5000')
    .addHelpText('after', '\nExample (against npm start):\n  npx carbon predict SYN_001')
    .action(async (commodity: string, opts: PredictOptions) => {
      const creds = opts.caFile ? credentials.createSsl(readFileSync(opts.caFile)) : credentials.createInsecure();
      const client = new PredictionServiceClient(opts.address, creds);
      const metadata = new Metadata();
      if (opts.token) metadata.set('authorization', `Bearer ${opts.token}`);
      const request = PredictRequest.fromPartial({ commodity, acceptStale: opts.acceptStale === true });
      try {
        const response = await new Promise<PredictResponse>((resolve, reject) => {
          client.predict(request, metadata, { deadline: Date.now() + Number(opts.timeout) }, (err, res) => (err ? reject(err) : resolve(res)));
        });
        process.stdout.write(`${JSON.stringify(PredictResponse.toJSON(response), null, 2)}\n`);
      } catch (err) {
        const e = err as ServiceError;
        process.stderr.write(`carbon predict: ${status[e.code] ?? e.code}: ${e.details || e.message}\n`);
        process.exitCode = 1;
      } finally {
        client.close();
      }
    });
}
