import test, { type ExecutionContext } from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runStatement, TrinoError } from './trino-client.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * A stand-in coordinator: answers each request with the next of `answers` (status and JSON body), or leaves it
 * unanswered when that gives undefined.
 */
async function coordinator(t: ExecutionContext, answers: ((base: string) => [number, unknown] | undefined)[]) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const next = answers.shift();
      const answer: [number, unknown] | undefined = next ? next(base) : [404, { message: 'no more answers' }];
      if (answer === undefined) return;
      res.writeHead(answer[0], { 'content-type': 'application/json' }).end(JSON.stringify(answer[1]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { base, seen };
}

test('a statement is posted, its nextUri followed to the end, and the rows of every page kept', async (t) => {
  const { base, seen } = await coordinator(t, [
    (b) => [200, { id: 'q1', nextUri: `${b}/v1/statement/queued/q1/1`, stats: { state: 'QUEUED' } }],
    (b) => [200, { id: 'q1', nextUri: `${b}/v1/statement/executing/q1/2`, columns: [{ name: 'day', type: 'date' }, { name: 'n', type: 'bigint' }], data: [['2024-03-01', 3]] }],
    () => [200, { id: 'q1', columns: [{ name: 'day', type: 'date' }, { name: 'n', type: 'bigint' }], data: [['2024-03-02', null]] }],
  ]);
  const result = await runStatement({ serverUrl: `${base}/`, user: 'ana', catalog: 'postgresql', schema: 'analytics' }, 'SELECT day, n FROM x');
  t.deepEqual(result, { queryId: 'q1', columns: [{ name: 'day', type: 'date' }, { name: 'n', type: 'bigint' }], rows: [['2024-03-01', 3], ['2024-03-02', null]] });
  t.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['POST /v1/statement', 'GET /v1/statement/queued/q1/1', 'GET /v1/statement/executing/q1/2']);
  t.is(seen[0]?.body, 'SELECT day, n FROM x');
  t.like(seen[0]?.headers, { 'x-trino-user': 'ana', 'x-trino-catalog': 'postgresql', 'x-trino-schema': 'analytics', 'x-trino-source': '254carbon' });
});

test("a failed statement rejects with Trino's message and where in the statement it is", async (t) => {
  const { base } = await coordinator(t, [
    (b) => [200, { id: 'q2', nextUri: `${b}/v1/statement/queued/q2/1` }],
    () => [200, { id: 'q2', error: { message: "line 1:8: Column 'x' cannot be resolved", errorName: 'COLUMN_NOT_FOUND', errorType: 'USER_ERROR', errorLocation: { lineNumber: 1, columnNumber: 8 } } }],
  ]);
  const err = await t.throwsAsync(runStatement({ serverUrl: base, user: 'ana' }, 'SELECT x'), { instanceOf: TrinoError });
  t.is(err?.code, 'TRINO_QUERY_FAILED');
  t.is(err?.message, "line 1:8: Column 'x' cannot be resolved (line 1, column 8)");
  t.like(err?.detail, { errorName: 'COLUMN_NOT_FOUND', line: 1, column: 8, queryId: 'q2' });
  t.false(err?.retriable);
});

test('a gateway busy (503) is asked again; another status is an error; nothing listening is unreachable', async (t) => {
  const { base } = await coordinator(t, [
    () => [503, { message: 'busy' }],
    () => [200, { id: 'q3', columns: [{ name: '_col0', type: 'integer' }], data: [[1]] }],
    () => [401, { message: 'Unauthorized' }],
  ]);
  t.deepEqual((await runStatement({ serverUrl: base, user: 'ana' }, 'SELECT 1')).rows, [[1]]);
  const refused = await t.throwsAsync(runStatement({ serverUrl: base, user: 'ana' }, 'SELECT 1'), { instanceOf: TrinoError });
  t.is(refused?.code, 'TRINO_HTTP_STATUS');
  t.regex(refused?.message ?? '', /answered HTTP 401/);
  const nobody = await t.throwsAsync(runStatement({ serverUrl: 'http://127.0.0.1:9', user: 'ana' }, 'SELECT 1'), { instanceOf: TrinoError });
  t.is(nobody?.code, 'TRINO_UNREACHABLE');
  t.true(nobody?.retriable);
});

test('aborting cancels the statement on the server', async (t) => {
  const abort = new AbortController();
  const { base, seen } = await coordinator(t, [
    (b) => [200, { id: 'q4', nextUri: `${b}/v1/statement/executing/q4/1` }],
    () => {
      // The statement runs long; the caller gives up while waiting for its next page.
      abort.abort();
      return undefined;
    },
    () => [204, {}],
  ]);
  const err = await t.throwsAsync(runStatement({ serverUrl: base, user: 'ana' }, 'SELECT count(*) FROM big', abort.signal), { instanceOf: TrinoError });
  t.is(err?.code, 'TRINO_CANCELLED');
  t.regex(err?.message ?? '', /query q4 cancelled; Trino was asked to stop it/);
  t.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['POST /v1/statement', 'GET /v1/statement/executing/q4/1', 'DELETE /v1/statement/executing/q4/1']);
});
