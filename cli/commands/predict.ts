/**
 * `carbon predict <commodity>`: a gRPC client of PredictionService/Predict built from the generated stubs, for
 * people without grpcurl and for checking a running platform from scripts (`--json`).
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { Direction, TradingSignal } from '../../proto/gen/carbon/v1/prediction.ts';
import { PredictionServiceClient, PredictRequest, PredictResponse, ServingPath } from '../../proto/gen/carbon/v1/prediction_service.ts';

interface PredictOptions {
  readonly address: string;
  readonly horizon?: number;
  readonly token?: string;
  readonly caFile?: string;
  readonly acceptStale?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

function horizon(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 365) throw new InvalidArgumentError('expected a horizon in ticks, 1 to 365');
  return n;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const price = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(2) : v.toPrecision(4));
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function age(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** The answer as a person reads it: the distribution as prices, the probability, the signal, the skill, the ages. */
export function describePrediction(r: PredictResponse): string {
  const p = r.prediction!;
  const m = r.meta;
  const path = m?.path === ServingPath.SERVING_PATH_LOCAL ? 'local' : m?.path === ServingPath.SERVING_PATH_FORWARDED ? 'forwarded' : 'degraded';
  const quantiles = p.quantileLevels.map((level, i) => `${Math.round(level * 100)}% ${price(p.quantilePrices[i]!)}`).join('  ');
  const signal = TradingSignal[p.signal]?.replace('TRADING_SIGNAL_', '') ?? String(p.signal);
  const lines = [
    `${p.commodity} at ${day(p.tickTsMs)}, price ${price(p.tickPrice)}: ${p.horizonTicks} tick(s) ahead, champion ${p.family} v${p.modelVersion} (${path}${m?.degraded ? `: ${m.degradedReason}` : ''})`,
    `  price quantiles  ${quantiles}`,
    `  80 % interval    ${price(p.intervalLowPrice)} .. ${price(p.intervalHighPrice)}; point forecast ${price(p.predictedPrice)}`,
    `  P(rise)          ${p.probabilityUp.toFixed(3)} (${p.direction === Direction.DIRECTION_UP ? 'up' : 'down'}); signal ${signal}: ${p.signalReason}`,
  ];
  const s = p.skill;
  if (s !== undefined) {
    lines.push(`  walk-forward     pinball ${s.pinballRatio.toFixed(4)} x no change, 80 % coverage ${pct(s.intervalCoverage)}, Brier ${s.brier.toFixed(4)}, over ${s.rows.toLocaleString('en-US')} rows`);
  }
  const f = m?.freshness;
  lines.push(`  ages             tick ${age(f?.tickAgeMs)}, prediction ${age(f?.predictionAgeMs)}, model ${age(f?.modelAgeMs)}${m?.stale ? ' (stale: accepted)' : ''}`);
  return `${lines.join('\n')}\n`;
}

export function registerPredictCommand(program: Command): void {
  program
    .command('predict <commodity>')
    .description("ask the platform for a commodity's latest forecast over gRPC (PredictionService/Predict)")
    // The default is where a platform started with the same environment listens.
    .option('--address <host:port>', 'the gateway (default: CARBON_GRPC_HOST:CARBON_GRPC_PORT, 127.0.0.1:50051)', `${process.env.CARBON_GRPC_HOST || '127.0.0.1'}:${process.env.CARBON_GRPC_PORT || '50051'}`)
    .option('--horizon <ticks>', 'the horizon, one the platform serves (default 1)', horizon)
    .option('--token <token>', 'API token (sent as "authorization: Bearer <token>"); needed unless the server is local and anonymous')
    .option('--ca-file <pem>', 'CA certificate: connect with TLS')
    .option('--accept-stale', 'accept a prediction older than the server\'s staleness bound')
    .option('--timeout <ms>', 'deadline of the call in milliseconds', '5000')
    .option('--json', 'the whole answer as JSON (the proto3 JSON mapping)')
    .addHelpText('after', '\nExamples (against npm start):\n  npx carbon predict WTI\n  npx carbon predict SYN_001 --horizon 20 --json')
    .action(async (commodity: string, opts: PredictOptions) => {
      const creds = opts.caFile ? credentials.createSsl(readFileSync(opts.caFile)) : credentials.createInsecure();
      const client = new PredictionServiceClient(opts.address, creds);
      const metadata = new Metadata();
      if (opts.token) metadata.set('authorization', `Bearer ${opts.token}`);
      const request = PredictRequest.fromPartial({ commodity, acceptStale: opts.acceptStale === true, ...(opts.horizon === undefined ? {} : { horizonTicks: opts.horizon }) });
      try {
        const response = await new Promise<PredictResponse>((resolve, reject) => {
          client.predict(request, metadata, { deadline: Date.now() + Number(opts.timeout) }, (err, res) => (err ? reject(err) : resolve(res)));
        });
        process.stdout.write(opts.json ? `${JSON.stringify(PredictResponse.toJSON(response), null, 2)}\n` : describePrediction(response));
      } catch (err) {
        const e = err as ServiceError;
        process.stderr.write(`carbon predict: ${status[e.code] ?? e.code}: ${e.details || e.message}\n`);
        process.exitCode = 1;
      } finally {
        client.close();
      }
    });
}
