/**
 * Middleware end to end over real HTTP (node:http, Express 5, Fastify 5),
 * plus the key and header helpers they share.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type RedisServer, startRedisServer } from "@scaleout/testkit";
import express from "express";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../src/decision.js";
import { clientAddressKey } from "../src/middleware/client-ip.js";
import { expressRateLimit } from "../src/middleware/express.js";
import { fastifyRateLimit } from "../src/middleware/fastify.js";
import { rateLimitHeaders } from "../src/middleware/headers.js";
import { nodeRateLimit } from "../src/middleware/node-http.js";
import { RuleEngine } from "../src/rules/engine.js";
import { RuleSet } from "../src/rules/rule-set.js";
import { GuardedStore } from "../src/stores/guarded-store.js";
import { RedisStore } from "../src/stores/redis-store.js";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("client address keys", () => {
  it("groups IPv6 by /64, unmaps IPv4-mapped addresses, honours other prefixes", () => {
    expect(clientAddressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(clientAddressKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(clientAddressKey("2001:db8:1:3::1")).toBe("2001:db8:1:3:0:0:0:0/64");
    expect(clientAddressKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(clientAddressKey("10.1.2.3")).toBe("10.1.2.3");
    expect(clientAddressKey("10.1.2.3", { ipv4PrefixBits: 24 })).toBe("10.1.2.0/24");
    expect(clientAddressKey("2001:db8:abcd:1234::1", { ipv6PrefixBits: 48 })).toBe(
      "2001:db8:abcd:0:0:0:0:0/48",
    );
    expect(clientAddressKey("2001:db8::1", { ipv6PrefixBits: 128 })).toBe("2001:db8:0:0:0:0:0:1");
    expect(clientAddressKey("fe80::1%eth0")).toBe("fe80:0:0:0:0:0:0:0/64");
  });
});

describe("headers", () => {
  const denied: Decision = {
    allowed: false,
    limit: 100,
    remaining: 0,
    resetMs: 30_500,
    retryAfterMs: 1_200,
    delayMs: 0,
  };
  const allowed: Decision = {
    allowed: true,
    limit: 100,
    remaining: 42,
    resetMs: 17_000,
    retryAfterMs: 0,
    delayMs: 0,
  };
  const policy = { periodMs: 60_000, name: "api" };
  it("writes each IETF draft's fields", () => {
    expect(rateLimitHeaders(allowed, policy, { ietf: "draft-6" })).toMatchObject({
      "ratelimit-policy": "100;w=60",
      "ratelimit-limit": "100",
      "ratelimit-remaining": "42",
      "ratelimit-reset": "17",
    });
    expect(rateLimitHeaders(allowed, policy, { ietf: "draft-7" })).toMatchObject({
      "ratelimit-policy": "100;w=60",
      ratelimit: "limit=100, remaining=42, reset=17",
    });
    expect(rateLimitHeaders(allowed, policy)).toMatchObject({
      "ratelimit-policy": '"api";q=100;w=60',
      ratelimit: '"api";r=42;t=17',
    });
    expect(rateLimitHeaders(allowed, policy, { ietf: false, legacy: false })).toEqual({});
  });
  it("adds Retry-After and X-Ratelimit-Retry-After (seconds, rounded up) only when denied", () => {
    const h = rateLimitHeaders(denied, policy);
    expect(h).toMatchObject({
      "retry-after": "2",
      "x-ratelimit-retry-after": "2",
      "x-ratelimit-remaining": "0",
    });
    expect(h.ratelimit).toBe('"api";r=0;t=2');
    expect(rateLimitHeaders(allowed, policy)["retry-after"]).toBeUndefined();
  });
});

describe("node:http", () => {
  it("sets headers on allowed responses and answers 429 past the limit", async () => {
    const limit = nodeRateLimit({
      policy: { algorithm: "fixed_window", limit: 3, periodMs: 60_000, name: "node" },
    });
    const server = createServer(async (req, res) => {
      if (!(await limit(req, res))) return;
      res.end("ok");
    });
    const base = await listen(server);
    try {
      const statuses: number[] = [];
      const remaining: (string | null)[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${base}/`);
        statuses.push(last.status);
        remaining.push(last.headers.get("x-ratelimit-remaining"));
        await last.text();
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(remaining).toEqual(["2", "1", "0", "0"]);
      expect(last!.headers.get("x-ratelimit-limit")).toBe("3");
      expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(last!.headers.get("x-ratelimit-retry-after")).toBe(last!.headers.get("retry-after"));
      expect(last!.headers.get("ratelimit-policy")).toBe('"node";q=3;w=60');
    } finally {
      await close(server);
    }
  });
});

describe("Express 5", () => {
  let server: Server;
  let base: string;
  const shadowLog: unknown[] = [];
  beforeAll(async () => {
    const app = express();
    app.set("trust proxy", true); // take the client address from X-Forwarded-For
    app.use(
      "/ip",
      expressRateLimit({
        policy: { algorithm: "sliding_window_log", limit: 2, periodMs: 60_000, name: "by-ip" },
        allowList: ["10.9.9.9"],
      }),
    );
    app.use(
      "/user",
      expressRateLimit({
        policy: { algorithm: "token_bucket", limit: 2, periodMs: 60_000, name: "by-user" },
        key: { header: "x-user-id" },
        skip: (request) => request.headers["x-internal"] === "yes",
        headers: { ietf: "draft-7" },
      }),
    );
    app.use(
      "/shadow",
      expressRateLimit({
        policy: { algorithm: "fixed_window", limit: 1, periodMs: 60_000, name: "shadow" },
        shadowMode: true,
        logger: { warn: (details) => shadowLog.push(details) },
      }),
    );
    app.get("/{*path}", (_req, res) => {
      res.send("ok");
    });
    server = createServer(app);
    base = await listen(server);
  });
  afterAll(async () => {
    await close(server);
  });

  const hit = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, { headers });
    await response.text();
    return response;
  };

  it("groups IPv6 clients by /64 and keeps other /64s apart", async () => {
    const a1 = await hit("/ip", { "x-forwarded-for": "2001:db8:0:1::1" });
    const a2 = await hit("/ip", { "x-forwarded-for": "2001:db8:0:1::ffff" });
    const a3 = await hit("/ip", { "x-forwarded-for": "2001:db8:0:1:1234::5" });
    const b1 = await hit("/ip", { "x-forwarded-for": "2001:db8:0:2::1" });
    expect([a1.status, a2.status, a3.status, b1.status]).toEqual([200, 200, 429, 200]);
  });

  it("never limits allow-listed addresses", async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await hit("/ip", { "x-forwarded-for": "10.9.9.9" })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it("keys by header, skips internal calls, lets keyless requests through, draft-7 headers", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await hit("/user", { "x-user-id": "alice" })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await hit("/user", { "x-user-id": "bob" })).headers.get("ratelimit")).toMatch(
      /^limit=2, remaining=1, reset=\d+$/,
    );
    expect((await hit("/user", { "x-user-id": "alice", "x-internal": "yes" })).status).toBe(200);
    expect((await hit("/user")).status).toBe(200);
  });

  it("shadow mode logs but never blocks", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await hit("/shadow", { "x-forwarded-for": "10.1.1.1" })).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect(shadowLog).toHaveLength(2);
    expect(shadowLog[0]).toMatchObject({ key: "10.1.1.1", policy: "shadow" });
  });
});

describe("Fastify 5 plugin with a Redis store", () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    client = new Redis({ port: redis.port, host: "127.0.0.1" });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it("limits per route from route config, exempts routes, and applies the default elsewhere", async () => {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      policy: { algorithm: "gcra", limit: 2, periodMs: 60_000, name: "default" },
      store: new GuardedStore({
        store: new RedisStore({ client, prefix: "fastify:" }),
        timeoutMs: 5000,
      }),
    });
    app.get("/default", async () => "ok");
    app.get(
      "/strict",
      { config: { rateLimit: { algorithm: "fixed_window", limit: 1, periodMs: 60_000 } } },
      async () => "ok",
    );
    app.get("/free", { config: { rateLimit: false } }, async () => "ok");
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const statuses = async (path: string, n: number) => {
        const out = [];
        for (let i = 0; i < n; i++) {
          const response = await fetch(`${base}${path}`);
          await response.text();
          out.push(response.status);
        }
        return out;
      };
      expect(await statuses("/default", 3)).toEqual([200, 200, 429]);
      expect(await statuses("/strict", 2)).toEqual([200, 429]);
      expect(await statuses("/free", 5)).toEqual([200, 200, 200, 200, 200]);
      const denied = await fetch(`${base}/strict`);
      expect(denied.headers.get("ratelimit-policy")).toBe('"/strict";q=1;w=60');
      expect(await denied.json()).toMatchObject({ error: "Too Many Requests" });
      // The state lives in Redis, under hash-tagged keys.
      expect((await client.keys("fastify:*")).sort()).toEqual([
        "fastify:{/strict:127.0.0.1}:fw",
        "fastify:{default:127.0.0.1}:gcra",
      ]);
    } finally {
      await app.close();
    }
  });

  it("a leaking bucket in queue mode delays requests instead of rejecting them", async () => {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      // One request leaves every second; three fit in the bucket. The five requests
      // only need to arrive within a second of each other.
      policy: {
        algorithm: "leaking_bucket",
        limit: 1,
        periodMs: 1000,
        burst: 3,
        leakMode: "queue",
        maxWaitMs: 2000,
        name: "q",
      },
    });
    app.get("/", async () => "ok");
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, () => fetch(base)));
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await app.close();
    }
  });

  it("evaluates envoy-format rules per route through a RuleEngine", async () => {
    const rules = RuleSet.fromYaml(`
domain: web
descriptors:
  - key: path
    value: /login
    descriptors:
      - key: remote_address
        rate_limit: {unit: minute, requests_per_unit: 2}
`);
    const engine = new RuleEngine({
      rules: () => rules,
      store: new RedisStore({ client, prefix: "rules:" }),
    });
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      rules: {
        engine,
        domain: "web",
        descriptors: (request, key) => [
          {
            entries: [
              { key: "path", value: request.url },
              { key: "remote_address", value: key },
            ],
          },
        ],
      },
    });
    app.get("/login", async () => "ok");
    app.get("/home", async () => "ok");
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await fetch(`${base}/login`)).status);
      expect(codes).toEqual([200, 200, 429]);
      const home = await fetch(`${base}/home`);
      expect(home.status).toBe(200);
      expect(home.headers.get("x-ratelimit-limit")).toBeNull();
    } finally {
      await app.close();
    }
  });
});
