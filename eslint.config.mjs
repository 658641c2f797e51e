// One lint setup for the whole repo: typescript-eslint's recommended rules; formatting is prettier's job.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, lowest first (scripts/lint/layers.json, shared with the architecture
// test): a module imports its own folder and the folders before it, never one after it
// (docs/architecture.md says what each holds).
const LAYERS = JSON.parse(
  readFileSync(new URL('./scripts/lint/layers.json', import.meta.url), 'utf8'),
);

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./)+(${LAYERS.slice(i + 1).join('|')})/`,
            message: `src/${layer} sits below that folder in the layer order (${LAYERS.join(' < ')}): import down only.`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.stack/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // CommonJS glue loaded by jest and node scripts.
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layerRules,
  {
    // A table's rule module sees the rule types and the core helpers, nothing of the machinery.
    files: ['consumers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!rules/types$|core/)',
              message: 'consumers/ import only src/rules/types and src/core/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests, scripts and benchmarks report to the terminal.
    files: ['test/**', 'scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
