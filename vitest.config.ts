import { defineConfig } from "vitest/config";

// Tests run from TypeScript sources. Packages import each other by name, which
// resolves through node_modules to the built dist/ (npm test builds first).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "packages/*/src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores on CI: keep process-spawning suites from starving each other.
    maxWorkers: 2,
  },
});
