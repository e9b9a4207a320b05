import path from 'node:path';
import { defineConfig } from 'vitest/config';

// SQLite waits for its lock in libuv's thread pool (4 threads by default): the forked test
// workers inherit a larger one.
process.env.UV_THREADPOOL_SIZE ??= '64';

export default defineConfig({
  resolve: {
    // The package's ESM entry pulls in browser tooling; tests need only its server half (CommonJS).
    alias: { '@nocobase/test': path.resolve(__dirname, 'node_modules/@nocobase/test/lib/server/index.js') },
  },
  test: {
    include: ['__tests__/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each file boots its own NocoBase app on its own database; two at a time fit 2 cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    env: {
      NODE_MODULES_PATH: path.resolve(__dirname, 'node_modules'),
      LOGGER_LEVEL: process.env.LOGGER_LEVEL ?? 'error',
      LOGGER_SILENT: process.env.LOGGER_SILENT ?? 'true',
      TZ: 'UTC',
    },
  },
});
