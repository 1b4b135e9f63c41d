/**
 * The layers, top to bottom: cli -> supervisors -> gateway -> actors -> connectors -> platform, proto. A module
 * imports from its own layer or from a layer below it, never from one above (docs/architecture.md says why each
 * thing sits where it does). test/layers.test.ts runs this under `npm test`.
 */
const layers = ['cli', 'supervisors', 'gateway', 'actors', 'connectors'];
/** platform and proto are the floor, side by side: neither imports the other. */
const floor = ['platform', 'proto'];

const above = (i) => layers.slice(0, i);
const under = (names) => `^(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layers.slice(1).map((layer, i) => ({
      name: `${layer}-not-up`,
      comment: `${layer}/ imports only from its own layer and the ones below it (${layers.slice(i + 2).concat(floor).join(', ')})`,
      severity: 'error',
      from: { path: under([layer]) },
      to: { path: under(above(i + 1)) },
    })),
    ...floor.map((layer) => ({
      name: `${layer}-is-the-floor`,
      comment: `${layer}/ imports nothing of the platform's own but itself`,
      severity: 'error',
      from: { path: under([layer]) },
      to: { path: under([...layers, ...floor.filter((other) => other !== layer)]) },
    })),
    {
      name: 'no-test-support-in-production',
      comment: 'test/ and bench/ hold what only tests and benchmarks use; production modules never import them',
      severity: 'error',
      from: { path: under([...layers, ...floor]), pathNot: '\\.test\\.ts$' },
      to: { path: under(['test', 'bench']) },
    },
    {
      name: 'no-circular',
      comment: 'a module never depends on itself through others at run time (five cycles closed by an `import type` remain)',
      severity: 'error',
      from: { path: under([...layers, ...floor]) },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    // `import type` is an arrow too: a layer that names a type from above depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
  },
};
