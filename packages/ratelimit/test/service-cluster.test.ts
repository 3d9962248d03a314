/**
 * Several `scaleout ratelimit serve` processes (the real CLI binary) share
 * one redis-server; concurrent clients over HTTP and gRPC spread across them
 * never get more than the rule allows for the exact algorithms. Also: the
 * processes shut down gracefully on SIGTERM with exit code 0, and
 * `scaleout ratelimit check` works from a terminal.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CliProcess,
  type RedisServer,
  runCli,
  spawnCli,
  startRedisServer,
  type TempDir,
  tempDir,
} from "@scaleout/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RlsClient, rlsClient, shouldRateLimit } from "./helpers/rls-client.js";

const INSTANCES = 3;
const CLIENTS = 30;
const REQUESTS = 360;
const LIMIT = 100;

const RULES = `
domain: shared
descriptors:
  - key: tenant
    value: log
    rate_limit: {unit: day, requests_per_unit: ${LIMIT}, algorithm: sliding_window_log}
  - key: tenant
    value: gcra
    rate_limit: {unit: day, requests_per_unit: ${LIMIT}, algorithm: gcra}
`;

interface Instance {
  process: CliProcess;
  httpPort: number;
  grpcPort: number;
}

async function startInstance(rules: string, redisUrl: string): Promise<Instance> {
  const child = spawnCli([
    "ratelimit",
    "serve",
    "--config",
    rules,
    "--http-port",
    "0",
    "--grpc-port",
    "0",
    "--redis-url",
    redisUrl,
    // Generous: a loaded CI machine must not turn a slow answer into a fail-open one.
    "--store-timeout-ms",
    "5000",
  ]);
  const ready = await child.waitForLine((line) => {
    const entry = JSON.parse(line) as { msg?: string; httpPort?: number; grpcPort?: number };
    return entry.msg === "rate limit service listening" ? entry : undefined;
  });
  return { process: child, httpPort: ready.httpPort!, grpcPort: ready.grpcPort! };
}

let redis: RedisServer;
let scratch: TempDir;
let dir: string;
let instances: Instance[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  scratch = tempDir("rl-cluster");
  dir = scratch.dir;
  writeFileSync(join(dir, "rules.yaml"), RULES);
  instances = await Promise.all(
    Array.from({ length: INSTANCES }, () => startInstance(join(dir, "rules.yaml"), redis.url)),
  );
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.process.stop("SIGKILL")));
  await redis?.stop();
  scratch?.cleanup();
});

describe(`${INSTANCES} service processes, one redis-server, ${CLIENTS} concurrent clients over HTTP and gRPC`, () => {
  it.each(["log", "gcra"])("tenant %s: together they admit exactly the limit", async (tenant) => {
    const grpcClients: RlsClient[] = instances.map((i) => rlsClient(i.grpcPort));
    const request = {
      domain: "shared",
      descriptors: [{ entries: [{ key: "tenant", value: tenant }] }],
    };
    let issued = 0;
    let admitted = 0;
    let denied = 0;
    try {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, clientIndex) => {
          while (issued < REQUESTS) {
            const n = issued++;
            const instance = n % INSTANCES;
            let code: string;
            if (clientIndex % 2 === 0) {
              const response = await fetch(
                `http://127.0.0.1:${instances[instance]!.httpPort}/v1/check`,
                { method: "POST", body: JSON.stringify(request) },
              );
              code = ((await response.json()) as { overall_code: string }).overall_code;
            } else {
              code = (await shouldRateLimit(grpcClients[instance]!, request)).overall_code;
            }
            if (code === "OK") admitted++;
            else denied++;
          }
        }),
      );
    } finally {
      for (const client of grpcClients) client.close();
    }
    expect(admitted + denied).toBe(REQUESTS);
    // A day-long limit refills 100 per 86 400 s: nothing refills during the test.
    expect(admitted).toBe(LIMIT);
  });

  it("shuts down gracefully on SIGTERM with exit code 0", async () => {
    const codes = await Promise.all(instances.map((instance) => instance.process.stop()));
    expect(codes).toEqual(instances.map(() => 0));
  });
});

describe("scaleout ratelimit check", () => {
  it("evaluates rules from the terminal", async () => {
    const { stdout } = await runCli([
      "ratelimit",
      "check",
      "--config",
      join(dir, "rules.yaml"),
      "--domain",
      "shared",
      "--descriptor",
      "tenant=log",
      "--hits",
      "40",
      "--repeat",
      "3",
      "--json",
    ]);
    const lines = stdout
      .trim()
      .split("\n")
      .map(
        (line) =>
          JSON.parse(line) as { overall_code: string; statuses: { limit_remaining: number }[] },
      );
    expect(lines.map((l) => l.overall_code)).toEqual(["OK", "OK", "OVER_LIMIT"]);
    expect(lines.map((l) => l.statuses[0]!.limit_remaining)).toEqual([60, 20, 20]);
  });

  it("reports a bad rules file in one line naming file, line and path", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "domain: x\ndescriptors:\n  - key: a\n    rate_limit: {unit: fortnight, requests_per_unit: 1}\n",
    );
    const result = await runCli([
      "ratelimit",
      "check",
      "--config",
      bad,
      "--domain",
      "x",
      "--descriptor",
      "a=b",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr.trim()).toMatch(
      /^scaleout: invalid rate limit rules: .*bad\.yaml:4:24: descriptors\[0\]\.rate_limit\.unit: "fortnight"/,
    );
  });
});
