import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'media/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    // Integration tests bind fixed loopback ports per file; files may run in parallel.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
