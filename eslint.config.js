// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.pgwarden/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // stdout is the MCP channel under stdio and logs go through pino: no console in the server
    // code (the CLI prints to its terminal; generators print their output)
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/guard/ast/gen-fields.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // the AST is walked by the traversal core (src/guard/ast/traverse.ts) and its visitors only
    files: ['src/**/*.ts'],
    ignores: ['src/guard/ast/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/guard/ast/fields.js', '**/ast/fields.js'], message: 'Walk trees with traverse() (src/guard/ast/traverse.ts), not INLINE_FIELDS.' }] },
      ],
    },
  },
);
