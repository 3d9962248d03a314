/**
 * The service in-process, over real sockets: HTTP/JSON, envoy's gRPC API with
 * a real @grpc/grpc-js client on our copy of envoy's proto, operations
 * endpoints, hot reload, the local over-limit cache and store failure.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  freePort,
  type RedisServer,
  startRedisServer,
  type TempDir,
  tempDir,
} from "@scaleout/testkit";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveServiceConfig, type ServiceConfig } from "../src/service/config.js";
import { type RateLimitService, startRateLimitService } from "../src/service/service.js";
import { rlsClient, shouldRateLimit } from "./helpers/rls-client.js";

const RULES = `
domain: api
descriptors:
  - key: user
    rate_limit: {unit: minute, requests_per_unit: 5, algorithm: sliding_window_log}
  - key: plan
    value: free
    rate_limit: {unit: hour, requests_per_unit: 10}
  - key: internal
    rate_limit: {unlimited: true}
  - key: beta
    shadow_mode: true
    rate_limit: {unit: minute, requests_per_unit: 1}
`;

const silent = pino({ level: "silent" });
let redis: RedisServer;
let scratch: TempDir;
let dir: string;

function config(overrides: Partial<ServiceConfig>): ServiceConfig {
  return resolveServiceConfig({
    flags: {
      rules: join(dir, "rules.yaml"),
      httpPort: 0,
      grpcPort: 0,
      redisUrl: redis.url,
      reloadDebounceMs: 20,
      // Generous: a loaded CI machine must not turn a slow answer into a fail-open one.
      storeTimeoutMs: 5000,
      ...overrides,
    },
  });
}

beforeAll(async () => {
  redis = await startRedisServer();
  scratch = tempDir("rl-service");
  dir = scratch.dir;
  writeFileSync(join(dir, "rules.yaml"), RULES);
});
afterAll(async () => {
  await redis?.stop();
  scratch?.cleanup();
});

async function check(
  service: RateLimitService,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | null }> {
  const response = await fetch(`http://127.0.0.1:${service.httpPort}/v1/check`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown>,
    retryAfter: response.headers.get("retry-after"),
  };
}

const user = (id: string, hits?: number) => ({
  domain: "api",
  descriptors: [{ entries: [{ key: "user", value: id }] }],
  ...(hits ? { hits_addend: hits } : {}),
});

describe("service over HTTP and gRPC with Redis", () => {
  let service: RateLimitService;
  beforeAll(async () => {
    service = await startRateLimitService(config({ keyPrefix: "svc1:" }), { logger: silent });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("POST /v1/check answers per descriptor and 429 over the limit", async () => {
    const first = await check(service, user("alice"));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      overall_code: "OK",
      statuses: [
        {
          code: "OK",
          current_limit: { requests_per_unit: 5, unit: "MINUTE" },
          limit_remaining: 4,
          retry_after_ms: 0,
        },
      ],
    });
    await check(service, user("alice", 4));
    const over = await check(service, user("alice"));
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({
      overall_code: "OVER_LIMIT",
      statuses: [{ code: "OVER_LIMIT", limit_remaining: 0 }],
    });
    expect(Number(over.retryAfter)).toBeGreaterThan(0);
  });

  it("rejects malformed, oversized and invalid requests with clear errors", async () => {
    const base = `http://127.0.0.1:${service.httpPort}`;
    const notJson = await fetch(`${base}/v1/check`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    const huge = await fetch(`${base}/v1/check`, { method: "POST", body: "x".repeat(70_000) });
    expect(huge.status).toBe(413);
    const invalid = await check(service, { domain: "api", descriptors: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ code: "SCALEOUT_RL_REQUEST_INVALID" });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "DELETE" })).status).toBe(405);
  });

  it("speaks envoy's RateLimitService.ShouldRateLimit to a real gRPC client", async () => {
    const client = rlsClient(service.grpcPort);
    try {
      const request = {
        domain: "api",
        descriptors: [
          { entries: [{ key: "user", value: "grpc-bob" }] },
          { entries: [{ key: "internal", value: "x" }] },
          { entries: [{ key: "unknown", value: "y" }] },
        ],
      };
      const ok = await shouldRateLimit(client, request);
      expect(ok.overall_code).toBe("OK");
      expect(ok.statuses).toHaveLength(3);
      expect(ok.statuses[0]).toMatchObject({
        code: "OK",
        limit_remaining: 4,
        current_limit: { requests_per_unit: 5, unit: "MINUTE" },
      });
      expect(ok.statuses[0]!.duration_until_reset!.seconds).toBeGreaterThan(0);
      expect(ok.statuses[1]).toMatchObject({
        code: "OK",
        limit_remaining: 4_294_967_295,
        current_limit: null,
      });
      expect(ok.statuses[2]).toMatchObject({ code: "OK", current_limit: null });
      const heavy = await shouldRateLimit(client, { ...request, hits_addend: 10 });
      expect(heavy.overall_code).toBe("OVER_LIMIT");
      expect(heavy.statuses.map((s) => s.code)).toEqual(["OVER_LIMIT", "OK", "OK"]);
      // envoy's limit override in the descriptor replaces the configured limit.
      const override = await shouldRateLimit(client, {
        domain: "api",
        descriptors: [
          {
            entries: [{ key: "user", value: "grpc-carol" }],
            limit: { requests_per_unit: 1000, unit: "HOUR" },
          },
        ],
      });
      expect(override.statuses[0]).toMatchObject({
        code: "OK",
        limit_remaining: 999,
        current_limit: { requests_per_unit: 1000, unit: "HOUR" },
      });
      await expect(shouldRateLimit(client, { domain: "", descriptors: [] })).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
      });
    } finally {
      client.close();
    }
  });

  it("exports per-rule metrics: hits, over limit, near limit, shadow mode, decision latency", async () => {
    for (let i = 0; i < 3; i++)
      await check(service, {
        domain: "api",
        descriptors: [{ entries: [{ key: "beta", value: "z" }] }],
      });
    const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    expect(text).toMatch(/scaleout_ratelimit_hits_total\{domain="api",rule="api: user"\} \d+/);
    expect(text).toMatch(
      /scaleout_ratelimit_over_limit_total\{domain="api",rule="api: user"\} [1-9]/,
    );
    expect(text).toMatch(
      /scaleout_ratelimit_near_limit_total\{domain="api",rule="api: user"\} [1-9]/,
    );
    expect(text).toMatch(/scaleout_ratelimit_shadow_mode_total\{domain="api",rule="api: beta"\} 2/);
    expect(text).toMatch(/scaleout_ratelimit_decision_seconds_count\{store="redis"\} [1-9]/);
    const readyz = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(readyz.status).toBe(200);
  });

  it("hot-reloads rules, keeps the old ones on a bad file, and shows them on /debug/rules", async () => {
    const file = join(dir, "rules.yaml");
    const reloaded = new Promise((resolve) => service.watcher.once("reload", resolve));
    writeFileSync(file, RULES.replace("requests_per_unit: 10}", "requests_per_unit: 20}"));
    await reloaded;
    const debug = (await (
      await fetch(`http://127.0.0.1:${service.httpPort}/debug/rules`)
    ).json()) as {
      domains: { rules: { requestsPerUnit: number; path: string }[] }[];
    };
    expect(debug.domains[0]!.rules.find((r) => r.path === "api: plan=free")?.requestsPerUnit).toBe(
      20,
    );
    const failed = new Promise((resolve) => service.watcher.once("error", resolve));
    writeFileSync(
      file,
      "domain: api\ndescriptors:\n  - key: plan\n    rate_limit: {unit: fortnight, requests_per_unit: 1}\n",
    );
    await failed;
    const free = await check(service, {
      domain: "api",
      descriptors: [{ entries: [{ key: "plan", value: "free" }] }],
    });
    expect(free.json).toMatchObject({ statuses: [{ current_limit: { requests_per_unit: 20 } }] });
    writeFileSync(file, RULES);
  });
});

async function evalshaCalls(port: number): Promise<number> {
  const client = new Redis({ port, host: "127.0.0.1" });
  try {
    return Number(
      (await client.info("commandstats")).match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0,
    );
  } finally {
    client.disconnect();
  }
}

describe("local over-limit cache", () => {
  it.each([true, false])(
    "localCache=%s: keys over limit are answered without Redis only when on",
    async (localCache) => {
      const service = await startRateLimitService(
        config({ keyPrefix: `cache-${localCache}:`, localCache }),
        { logger: silent },
      );
      try {
        for (let i = 0; i < 6; i++) await check(service, user("mallory"));
        const before = await evalshaCalls(redis.port);
        const denied = [];
        for (let i = 0; i < 20; i++) denied.push(await check(service, user("mallory")));
        const storeCalls = (await evalshaCalls(redis.port)) - before;
        expect(denied.every((d) => d.status === 429)).toBe(true);
        if (localCache) {
          expect(storeCalls).toBe(0);
          expect(denied[0]!.json).toMatchObject({ statuses: [{ cached: true }] });
        } else {
          expect(storeCalls).toBe(20);
        }
      } finally {
        await service.close();
      }
    },
  );
});

describe("store failure", () => {
  it("fails closed with a dead Redis without hanging, and /readyz says so", async () => {
    const port = await freePort();
    const service = await startRateLimitService(
      config({ redisUrl: `redis://127.0.0.1:${port}`, failureMode: "closed", storeTimeoutMs: 200 }),
      { logger: silent },
    );
    try {
      const denied = await check(service, user("dave"));
      expect(denied.status).toBe(429);
      expect(denied.json).toMatchObject({
        statuses: [{ code: "OVER_LIMIT", degraded: "fail-closed" }],
      });
      expect((await fetch(`http://127.0.0.1:${service.httpPort}/readyz`)).status).toBe(503);
      const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
      expect(text).toMatch(
        /scaleout_ratelimit_store_errors_total\{store="redis",reason="(error|timeout)",outcome="fail-closed"\} [1-9]/,
      );
    } finally {
      await service.close();
    }
  });
});

describe("configuration", () => {
  it("takes flags over environment over file, and names the field of a bad value", () => {
    const file = join(dir, "settings.yaml");
    writeFileSync(file, "http_port: 9001\ngrpc_port: 9002\nlog_level: debug\n");
    const resolved = resolveServiceConfig({
      flags: { rules: "r.yaml", httpPort: "9000" },
      env: { RATELIMIT_GRPC_PORT: "9003" },
      file,
    });
    expect(resolved).toMatchObject({
      rules: "r.yaml",
      httpPort: 9000,
      grpcPort: 9003,
      logLevel: "debug",
      failureMode: "open",
      localCache: true,
    });
    expect(() => resolveServiceConfig({ flags: { rules: "r", storeTimeoutMs: "soon" } })).toThrow(
      /--store-timeout-ms: "soon" is not an integer/,
    );
    expect(() =>
      resolveServiceConfig({ flags: { rules: "r" }, env: { RATELIMIT_FAILURE_MODE: "maybe" } }),
    ).toThrow(/RATELIMIT_FAILURE_MODE: "maybe" is not one of open, closed/);
    writeFileSync(file, "http_prot: 1\n");
    expect(() => resolveServiceConfig({ flags: { rules: "r" }, file })).toThrow(
      /settings\.yaml: http_prot: unknown setting/,
    );
    expect(() => resolveServiceConfig({})).toThrow(/--config \(or RATELIMIT_RULES\) is required/);
  });
});
