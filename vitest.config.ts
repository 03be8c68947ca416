import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; tests run them against the sources.
    alias: [
      { find: /^desim\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^desim$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.spec.ts', 'examples/**/*.spec.ts'],
    // Hang detectors, not speed checks: CI shares a 2-core machine, and a test that is only slow must
    // not fail (the sweep e2e test takes 9 s on a quiet machine and minutes on a busy one).
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
  },
});
