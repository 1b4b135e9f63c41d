/**
 * The HTTP source against a local server: 5xx and network errors are retried with backoff, 4xx are not, a
 * server that hangs times out, and CSV and JSON bodies become the same rows.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { runIngest } from '../actors/ingest/ingest-job.ts';
import { SourceError } from '../actors/ingest/raw-row.ts';
import { HttpSource, type HttpSourceOptions } from '../actors/ingest/sources/http-source.ts';
import { validationContext } from '../actors/ingest/validate.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;

/** A server on a free loopback port whose paths answer by script; counts requests per path. */
async function serve(t: ExecutionContext, routes: Record<string, Handler>): Promise<{ url: (path: string) => string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const handler = routes[path];
    if (handler) handler(req, res, n);
    else res.writeHead(404).end('no such path');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: (path) => `http://127.0.0.1:${port}${path}`, hits };
}

const wtiCsv = 'Date,Price\n2020-04-17,18.31\n2020-04-20,-36.98\n2020-04-21,8.91\n';
const fast: Pick<HttpSourceOptions, 'initialBackoffMs' | 'maxBackoffMs'> = { initialBackoffMs: 10, maxBackoffMs: 50 };

async function dryRun(source: HttpSource) {
  return runIngest({ source, publisher: undefined, validation: validationContext({ nowMs: Date.UTC(2025, 0, 1) }) });
}

test('a 500 followed by success is retried and the rows are read', async (t) => {
  const { url, hits } = await serve(t, {
    '/wti-daily.csv': (_req, res, attempt) => {
      if (attempt === 1) res.writeHead(500, { 'content-type': 'text/plain' }).end('try again');
      else res.writeHead(200, { 'content-type': 'text/csv' }).end(wtiCsv);
    },
  });
  const summary = await dryRun(new HttpSource(url('/wti-daily.csv'), { timeoutMs: 5_000, retries: 3, ...fast }));
  t.is(hits.get('/wti-daily.csv'), 2);
  t.is(summary.published, 3);
  t.is(summary.rejectedTotal, 0);
});

test('a 404 is not retried and the error names the URL and the status', async (t) => {
  const { url, hits } = await serve(t, {});
  const err = await t.throwsAsync(dryRun(new HttpSource(url('/missing.csv'), { timeoutMs: 5_000, retries: 3, ...fast })), { instanceOf: SourceError });
  t.is(hits.get('/missing.csv'), 1);
  t.regex(err?.message ?? '', /missing\.csv.*HTTP 404.*not retried/);
});

test('a server that never answers times out, is retried, and then fails with a timeout message', async (t) => {
  const { url, hits } = await serve(t, { '/hang': () => undefined });
  const err = await t.throwsAsync(dryRun(new HttpSource(url('/hang'), { timeoutMs: 500, retries: 1, ...fast })), { instanceOf: SourceError });
  t.is(hits.get('/hang'), 2);
  t.regex(err?.message ?? '', /after 2 attempts: timed out after 500 ms/);
});

test('a body that stalls half way times out without a retry (its first rows are already out)', async (t) => {
  const { url, hits } = await serve(t, {
    '/stall.csv': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('Date,Price\n2020-04-17,18.31\n');
    },
  });
  // Generous: on a loaded machine the headers themselves may take a while; only the stalled body must time out.
  const err = await t.throwsAsync(dryRun(new HttpSource(url('/stall.csv'), { timeoutMs: 1_500, retries: 3, ...fast })), { instanceOf: SourceError });
  t.is(hits.get('/stall.csv'), 1);
  t.regex(err?.message ?? '', /reading the body .* timed out/);
});

test('a refused connection is retried, then fails naming the network error', async (t) => {
  // A port that was just free: bind, read it, close.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const err = await t.throwsAsync(dryRun(new HttpSource(`http://127.0.0.1:${port}/x.csv`, { timeoutMs: 2_000, retries: 2, ...fast })), { instanceOf: SourceError });
  t.regex(err?.message ?? '', /after 3 attempts: request failed: ECONNREFUSED/);
});

test('a JSON array of {date|ts, price, commodity} becomes ticks; its bad elements are rejected with their text', async (t) => {
  const body = JSON.stringify([
    { date: '2020-04-20', price: -36.98, commodity: 'WTI' },
    { ts: Date.UTC(2020, 3, 21), price: '8.91', commodity: 'wti' },
    { date: '2020-04-20', price: 19.33, commodity: 'BRENT' },
    { date: '2020-04-22', price: null, commodity: 'WTI' },
    { date: 'soon', price: 1, commodity: 'WTI' },
    'not an object',
    { date: '2020-04-23', price: 13.78 },
  ]);
  const { url } = await serve(t, { '/feed': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body) });
  const source = new HttpSource(url('/feed'), { timeoutMs: 5_000, retries: 0, commodity: undefined });
  const rows = [];
  for await (const row of source) rows.push(row);
  t.is(rows.length, 7);
  t.is(rows[5]?.raw, '"not an object"');
  t.is(rows[0]?.rawType, 'application/json');
  const summary = await dryRun(new HttpSource(url('/feed'), { timeoutMs: 5_000, retries: 0 }));
  // The element without a commodity takes the id of the URL's last segment, FEED.
  t.is(summary.published, 4);
  t.like(summary.rejected, { empty_price: 1, unparseable_date: 2 });
});

test('the format is sniffed from the body when neither the Content-Type nor the URL tells it', async (t) => {
  const { url } = await serve(t, {
    '/data': (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(`  [{"date":"2020-04-20","price":1,"commodity":"WTI"}]`),
    '/other': (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wtiCsv),
  });
  t.is((await dryRun(new HttpSource(url('/data'), { timeoutMs: 5_000, retries: 0 }))).published, 1);
  t.is((await dryRun(new HttpSource(url('/other'), { timeoutMs: 5_000, retries: 0, commodity: 'WTI' }))).published, 3);
});
