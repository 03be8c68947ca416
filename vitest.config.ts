import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Tests that start processes, open sockets or need `npm run build` (dist/): the CLI end to end, real
 * UDP nodes, the bench against real nodes, and the property suites that replay their counterexample
 * with `desim run`; and the heavy in-process ones: whole bundled runs with their plots, SVG rendering,
 * the compiler's view of the public API, the numeric fuzz of every field, the fidelity tables.
 * `npm test` runs them all; `npm run test:fast` (the `fast` project) leaves these out, to stay under
 * a minute on 2 cores.
 */
const SLOW = [
  'test/e2e/**',
  'test/api-docs.spec.ts',
  'test/scenarios/plot.spec.ts',
  'test/scenarios/numeric-fuzz.spec.ts',
  'test/scenarios/drivers/tcp-e2e.spec.ts',
  'test/validation/**',
  'test/bench/udp.spec.ts',
  'test/transport/cluster.spec.ts',
  'test/transport/durable.spec.ts',
  'test/transport/durable-e2e.spec.ts',
  'test/transport/fuzz.spec.ts',
  'test/transport/security.spec.ts',
  'test/transport/udp-host.spec.ts',
  'test/transport/swim-udp.spec.ts',
  'test/transport/swim-cli.spec.ts',
  'test/protocols/gossip/convergence.spec.ts',
  'examples/**/*.spec.ts',
];

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; tests run them against the sources.
    alias: [
      { find: /^desim\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^desim$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // Hang detectors, not speed checks: CI shares a 2-core machine, and a test that is only slow must
    // not fail (the sweep e2e test takes 9 s on a quiet machine and minutes on a busy one).
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    // `vitest run` runs both projects (the full suite); `vitest run --project fast` only the first.
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.spec.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW.map((g) => (g.endsWith('**') ? `${g}/*.spec.ts` : g)) } },
    ],
  },
});
