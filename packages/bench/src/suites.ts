/** Where each benchmark suite lives: the runner imports `bench/<suite>.ts` of the package. */
export interface SuiteLocation {
  suite: string;
  packageDir: string;
  file: string;
}

export const SUITES: readonly SuiteLocation[] = [
  { suite: "ring", packageDir: "packages/hashring", file: "bench/ring.ts" },
  { suite: "ids", packageDir: "packages/snowflake", file: "bench/ids.ts" },
  { suite: "ratelimit", packageDir: "packages/ratelimit", file: "bench/ratelimit.ts" },
  { suite: "lsm", packageDir: "packages/lsm", file: "bench/lsm.ts" },
  { suite: "kv-node", packageDir: "packages/kv", file: "bench/kv-node.ts" },
  { suite: "kv-cluster", packageDir: "packages/kv", file: "bench/kv-cluster.ts" },
];
