/**
 * docs/architecture.md matches the tree: every file or folder it names exists, and its two walks through the code
 * (a tick from the consumer to the commit, a Predict from the socket to the answer) stay within 20 files each.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const root = fileURLToPath(new URL('..', import.meta.url));
const doc = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');

/** Paths from the repository's root, as the page writes them: `supervisors/worker/edges.ts`, `actors/sinks/`. */
function namedPaths(text: string): string[] {
  const paths = text.match(/\b(?:cli|supervisors|gateway|actors|connectors|platform|proto|test|bench|deploy|docs)\/[\w./-]*/g) ?? [];
  return [...new Set(paths.map((p) => p.replace(/\.+$/, '')))];
}

/** The text of the `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/architecture.md has no section "## ${title}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

test('every path docs/architecture.md names exists', (t) => {
  const paths = namedPaths(doc);
  t.true(paths.length > 40, `only ${paths.length} paths found: the pattern no longer reads the page`);
  t.deepEqual(paths.filter((p) => !existsSync(`${root}${p}`)), []);
  const links = [...doc.matchAll(/\]\(([\w./-]+\.md)\)/g)].map((m) => `docs/${m[1]}`);
  t.deepEqual(links.filter((p) => !existsSync(`${root}${p}`)), []);
});

test('a tick and a Predict can each be followed in at most 20 files', (t) => {
  for (const title of ['Follow a tick', 'Follow a Predict']) {
    const files = namedPaths(section(title)).filter((p) => p.endsWith('.ts'));
    t.true(files.length >= 10, `${title}: only ${files.length} files`);
    t.true(files.length <= 20, `${title}: ${files.length} files`);
  }
});
