import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing; `integration` runs against real Kafka, OpenSearch and Redis,
// which test/setup/global-services.ts finds or starts once per run.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure tests, no module state between files: one module graph per worker, not per file
          // (the per-file imports were a third of the wall time).
          isolate: false,
          // Vitest's default is one worker less than the cores: one, on the 2-core machines.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          // Pure but long (the 2,000,000-event generator): part of `npm test`, not of test:unit.
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          // As the unit project (Vitest groups projects by maxWorkers, and these two run together).
          maxWorkers: 2,
          testTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/global-services.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The servers are shared: files isolate themselves by namespace, but two cores do not
          // gain from more than two files at once.
          maxWorkers: 2,
          // Vitest 4 runs projects with different maxWorkers in separate groups, which need
          // distinct orders: unit tests (group 0) first, then integration.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
