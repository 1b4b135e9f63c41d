/**
 * The operators' HTTP endpoint (the metrics port): GET /metrics, GET /healthz, GET /status (the cluster primary:
 * its workers and restarts, for `carbon status`), and, with CARBON_CHAOS=true, POST /chaos/crash?commodity=WTI
 * (or no commodity: a random actor; `&poisonTsMs=...` to poison one tick), answering how many workers acted.
 * Served by the cluster primary (metrics aggregated over the workers) and by the embedded platform.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../platform/logger.ts';
import type { ChaosCommand } from './chaos-command.ts';

export interface OpsHandlers {
  metricsText(): Promise<string>;
  /** `healthy` false answers 503. */
  health(): { readonly healthy: boolean; readonly body: object };
  /** The cluster primary's view of itself (primary-status.ts); undefined where there is none (embedded). */
  readonly status?: () => object;
  /** Undefined when the chaos control is off; resolves with how many workers the command went to, and how many acted. */
  readonly chaos: ((command: ChaosCommand) => Promise<{ readonly sent: number; readonly applied: number }>) | undefined;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

let nextChaosId = 1;

export async function startOpsServer(host: string, port: number, handlers: OpsHandlers, log: Logger): Promise<OpsServer> {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ops');
    if (req.method === 'GET' && url.pathname === '/metrics') {
      send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', await handlers.metricsText());
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const { healthy, body } = handlers.health();
      send(res, healthy ? 200 : 503, 'application/json', JSON.stringify(body));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/status' && handlers.status) {
      send(res, 200, 'application/json', JSON.stringify(handlers.status()));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/chaos/crash') {
      if (!handlers.chaos) {
        send(res, 403, 'text/plain', 'chaos control is off: start with CARBON_CHAOS=true\n');
        return;
      }
      const poisonTs = url.searchParams.get('poisonTsMs');
      if (poisonTs !== null && !Number.isSafeInteger(Number(poisonTs))) {
        send(res, 400, 'text/plain', `poisonTsMs must be epoch milliseconds, got ${JSON.stringify(poisonTs)}\n`);
        return;
      }
      const command: ChaosCommand = {
        type: 'carbon:chaos',
        id: nextChaosId++,
        action: poisonTs === null ? 'crash' : 'poison',
        commodity: url.searchParams.get('commodity') ?? undefined,
        poisonTsMs: poisonTs === null ? undefined : Number(poisonTs),
      };
      const { sent, applied } = await handlers.chaos(command);
      send(res, 202, 'application/json', JSON.stringify({ sent, applied, command }));
      return;
    }
    send(res, 404, 'text/plain', `not found: try GET /metrics, GET /healthz${handlers.status ? ', GET /status' : ''}, POST /chaos/crash?commodity=WTI\n`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error('ops_request_failed', { url: req.url, err });
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
