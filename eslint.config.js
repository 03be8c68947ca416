// ESLint flat config: typescript-eslint's type-aware recommended rules over the sources, tests and
// examples (the files tsconfig.json type-checks); Prettier owns the layout (eslint-config-prettier
// turns off the rules that would fight it). A rule turned off here says why on its line.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'docs/', 'results/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Callbacks handed to async APIs (writeOutputFolder, the WAL's exclusive section) are `async`
      // even when they do not await, so that a synchronous throw becomes the rejection the caller handles.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'examples/**/*.spec.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.stringContaining, expect.any) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // Plain JavaScript (this file, test fixtures) is not in tsconfig.json: lint it without types.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);
