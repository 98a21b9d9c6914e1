// The type-aware linter of `npm test` (npm run lint). Rules chosen for what breaks this service:
// promises left floating or handed where a callback's result is ignored (a lost write, an
// unhandled rejection that kills the projector), awaits of non-promises, dead code; and the pure
// core's purity (projections/: no clock, randomness, environment or timers); functions of at most
// 60 lines in the product, or a reason in the comment that allows one. Import boundaries
// are dependency-cruiser's part (.dependency-cruiser.cjs); formatting is prettier's.
import tseslint from 'typescript-eslint';

const PURE_CORE = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'projections/ is pure: take the time as an argument (an event time)' },
    { object: 'Math', property: 'random', message: 'projections/ is pure: no randomness' },
    { object: 'performance', property: 'now', message: 'projections/ is pure: no clock' },
  ],
  'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'projections/ is pure: no clock (new Date)' }],
  'no-restricted-globals': [
    'error',
    ...['process', 'setTimeout', 'setInterval', 'setImmediate', 'crypto', 'fetch', 'globalThis', 'performance'].map((name) => ({
      name,
      message: `projections/ is pure: no ${name}`,
    })),
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'docs/**', 'src/web/**', 'bin/**', '.dependency-cruiser.cjs', 'eslint.config.js'] },
  {
    files: ['**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      'no-unreachable': 'error',
      'no-fallthrough': 'error',
      'no-self-compare': 'error',
      'no-unsafe-finally': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  { files: ['projections/**/*.ts'], rules: PURE_CORE },
  // Small functions in the product: a longer one says why in its disable comment (`-- reason`).
  {
    files: ['src/**/*.ts', 'projections/**/*.ts', 'schemas/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
);
