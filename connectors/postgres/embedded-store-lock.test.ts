/**
 * The embedded store's files are one process's: a live other holder is refused by name, a dead one's pid file is
 * taken over, and closing the store gives it back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pgliteStore, StoreInUseError } from './sql-store.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'carbon-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'pglite');
}

test('a store held by a live process is refused, naming the process', async (t) => {
  const dataDir = tempDir(t);
  // The parent of this test process (ava's) is alive for the whole test.
  writeFileSync(`${dataDir}.pid`, String(process.ppid));
  const err = await t.throwsAsync(pgliteStore(dataDir), { instanceOf: StoreInUseError });
  t.is(err?.pid, process.ppid);
  t.regex(err?.message ?? '', /in use by process \d+ .*set DATABASE_URL/);
});

test('a dead holder\'s pid file is taken over, and closing the store removes it', async (t) => {
  const dataDir = tempDir(t);
  const exited = spawnSync(process.execPath, ['-e', '0']);
  writeFileSync(`${dataDir}.pid`, String(exited.pid));
  const store = await pgliteStore(dataDir);
  t.deepEqual((await store.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
  t.true(existsSync(`${dataDir}.pid`));
  await store.close();
  t.false(existsSync(`${dataDir}.pid`));
});
