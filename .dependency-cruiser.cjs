/**
 * The import boundaries, checked by `npm run lint:boundaries` (part of `npm test`):
 * - projections/ (the pure access rules) imports only itself, and schemas/ only itself,
 *   projections/ and zod: no src/, no Node built-in, no client library (the clock and randomness
 *   are eslint's part: eslint.config.js);
 * - the adapters (src/redis, src/opensearch, src/kafka) import nothing from the layers that use
 *   them (src/projector, src/api, src/audit, src/rebuild, src/integrity, src/cli);
 * - the ports (src/ports) are interfaces: they import no adapter, no client library, no layer;
 * - the in-memory twins (src/twins) import no client library and no adapter, and only tests
 *   import them (the product runs on the real adapters);
 * - bench/ imports nothing from test/, and src/ nothing from test/ or bench/;
 * - no import cycles.
 */
module.exports = {
  forbidden: [
    {
      name: 'pure-core-no-shell',
      comment: 'projections/ and schemas/ are pure: they import neither the shell (src/) nor tests nor benches',
      severity: 'error',
      from: { path: '^(projections|schemas)/' },
      to: { path: '^(src|test|bench|scripts)/' },
    },
    {
      name: 'pure-core-no-io',
      comment: 'projections/ and schemas/ import no Node built-in with I/O and no client library',
      severity: 'error',
      from: { path: '^(projections|schemas)/' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^zod' },
    },
    {
      name: 'core-rules-only-core',
      comment: 'projections/ imports only itself (schemas/ may use zod)',
      severity: 'error',
      from: { path: '^projections/' },
      to: { pathNot: '^projections/' },
    },
    {
      name: 'adapters-not-upward',
      comment: 'the store adapters (src/redis, src/opensearch, src/kafka) import nothing from the layers that use them',
      severity: 'error',
      from: { path: '^src/(redis|opensearch|kafka)/' },
      to: { path: '^src/(projector|api|audit|rebuild|integrity|cli|web|demo)/' },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'the ports (src/ports) import only the core, the records and the error taxonomy: no adapter, no client library',
      severity: 'error',
      from: { path: '^src/ports/' },
      to: { pathNot: '^(src/ports|src/records|src/errors\\.ts|projections)/?' },
    },
    {
      name: 'twins-no-io',
      comment: 'the in-memory twins (src/twins) import no client library and no adapter',
      severity: 'error',
      from: { path: '^src/twins/' },
      to: { path: '^(src/(redis|opensearch|kafka)/|node_modules/(ioredis|kafkajs|@opensearch-project))' },
    },
    {
      name: 'twins-only-in-tests',
      comment: 'the product runs on the real adapters: only tests (and the twins themselves) import src/twins',
      severity: 'error',
      from: { path: '^(src|bench|scripts|projections|schemas)/', pathNot: '^src/twins/' },
      to: { path: '^src/twins/' },
    },
    {
      name: 'bench-not-test',
      comment: 'benches import nothing from the tests',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'src-not-test-or-bench',
      comment: 'the product imports no test or bench code',
      severity: 'error',
      from: { path: '^(src|projections|schemas)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-cycles',
      comment: 'no import cycles (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|docs)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
