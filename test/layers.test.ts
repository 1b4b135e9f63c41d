/**
 * The layers hold: dependency-cruiser checks every import of the tree against .dependency-cruiser.cjs (the layer
 * order, no test support in production code, no run-time cycle), so that an arrow against the layers fails
 * `npm test` and names the import.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const root = fileURLToPath(new URL('..', import.meta.url));
const folders = ['cli', 'supervisors', 'gateway', 'actors', 'connectors', 'platform', 'proto'];

interface Cruise {
  readonly summary: {
    readonly totalCruised: number;
    readonly violations: readonly { readonly rule: { readonly name: string }; readonly from: string; readonly to: string; readonly cycle?: readonly { readonly name: string }[] }[];
  };
}

test('every import points down the layers, and no module depends on itself at run time', async (t) => {
  // depcruise exits with the number of errors it found: the report is read either way.
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/depcruise',
    ['--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...folders],
    { cwd: root, maxBuffer: 256 * 1024 * 1024 },
  ).catch((err: { stdout?: string; stderr?: string }) => {
    if (typeof err.stdout === 'string' && err.stdout !== '') return { stdout: err.stdout };
    throw err;
  });
  const { summary } = JSON.parse(stdout) as Cruise;
  t.true(summary.totalCruised > 300, `cruised only ${summary.totalCruised} modules`);
  const violations = summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.cycle === undefined ? v.to : v.cycle.map((c) => c.name).join(' -> ')}`);
  t.deepEqual(violations, []);
});
