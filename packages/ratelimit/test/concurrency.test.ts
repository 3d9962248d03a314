/**
 * Several processes, each with many requests in flight, against one real
 * redis-server: the exact algorithms never admit more than the limit.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RedisServer, startRedisServer } from "@scaleout/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Policy } from "../src/policy.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./helpers/concurrency-child.ts", import.meta.url));
const PROCESSES = 4;
const REQUESTS_PER_PROCESS = 250;
const CONCURRENCY_PER_PROCESS = 25;
const LIMIT = 100;
const DAY_MS = 86_400_000;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

async function admittedAcrossProcesses(
  policy: Policy,
  key: string,
): Promise<{ admitted: number; elapsedMs: number }> {
  const started = Date.now();
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, () =>
      run(process.execPath, ["--import", "tsx", CHILD], {
        env: {
          ...process.env,
          RL_CHILD_TASK: JSON.stringify({
            port: server.port,
            key,
            policy,
            requests: REQUESTS_PER_PROCESS,
            concurrency: CONCURRENCY_PER_PROCESS,
          }),
        },
      }),
    ),
  );
  const admitted = outputs.reduce(
    (sum, { stdout }) => sum + (JSON.parse(stdout) as { admitted: number }).admitted,
    0,
  );
  return { admitted, elapsedMs: Date.now() - started };
}

describe(`${PROCESSES} processes x ${CONCURRENCY_PER_PROCESS} in flight against one redis-server`, () => {
  it("sliding window log admits exactly the limit", async () => {
    const { admitted } = await admittedAcrossProcesses(
      { algorithm: "sliding_window_log", limit: LIMIT, periodMs: DAY_MS },
      "swl",
    );
    expect(admitted).toBe(LIMIT);
  });

  it.each(["token_bucket", "gcra", "leaking_bucket"] as const)(
    "%s admits the burst plus at most what refilled meanwhile",
    async (algorithm) => {
      const policy: Policy = { algorithm, limit: LIMIT, periodMs: DAY_MS };
      const { admitted, elapsedMs } = await admittedAcrossProcesses(policy, algorithm);
      expect(admitted).toBeGreaterThanOrEqual(LIMIT);
      expect(admitted).toBeLessThanOrEqual(LIMIT + Math.ceil((elapsedMs * LIMIT) / DAY_MS));
    },
  );

  it("fixed window admits the limit per window touched", async () => {
    const before = Math.floor(Date.now() / DAY_MS);
    const { admitted } = await admittedAcrossProcesses(
      { algorithm: "fixed_window", limit: LIMIT, periodMs: DAY_MS },
      "fw",
    );
    const windows = Math.floor(Date.now() / DAY_MS) - before + 1;
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT * windows);
  });
});
