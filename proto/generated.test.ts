import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test('the committed generated code matches what protoc + ts-proto generate from proto/', (t) => {
  const fresh = mkdtempSync(join(tmpdir(), 'carbon-proto-'));
  try {
    execFileSync('bash', ['proto/generate.sh', fresh], { stdio: 'pipe' });
    const committed = files('proto/gen').map((f) => relative('proto/gen', f)).sort();
    const generated = files(fresh).map((f) => relative(fresh, f)).sort();
    t.deepEqual(committed, generated, 'the set of generated files differs: run `npm run proto`');
    for (const f of generated) {
      t.is(readFileSync(join('proto/gen', f), 'utf8'), readFileSync(join(fresh, f), 'utf8'), `${f} is stale: run \`npm run proto\``);
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});
