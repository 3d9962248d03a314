/**
 * Store behaviour beyond the shared decisions: memory bounds and reclaiming,
 * Redis script reloading, Redis time, hash tags, expiry, and failure
 * handling against a dead Redis (killed mid-test, or a closed port).
 */
import { freePort, type RedisServer, startRedisServer } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimitMetrics } from "../src/metrics.js";
import { compilePolicy } from "../src/policy.js";
import { GuardedStore, type StoreFailureEvent } from "../src/stores/guarded-store.js";
import { MemoryStore } from "../src/stores/memory-store.js";
import { RedisStore } from "../src/stores/redis-store.js";
import type { RateLimitStore } from "../src/stores/store.js";
import { countCommands } from "./helpers/count-commands.js";
import { manualClock } from "./helpers/stores.js";

const perSecond = (limit: number) =>
  compilePolicy({ algorithm: "fixed_window", limit, periodMs: 1000 });

describe("memory store", () => {
  it("is bounded: the least recently used key is evicted first", async () => {
    const clock = manualClock(10_000);
    const store = new MemoryStore({ maxKeys: 3, clock: clock.read });
    const policy = perSecond(1);
    for (const key of ["a", "b", "c"])
      expect((await store.decide(key, policy, 1)).allowed).toBe(true);
    // Touch "a" (denied, still counts as use), then add "d": "b" is the least recently used.
    expect((await store.decide("a", policy, 1)).allowed).toBe(false);
    expect((await store.decide("d", policy, 1)).allowed).toBe(true);
    expect(store.size).toBe(3);
    expect((await store.decide("b", policy, 1)).allowed).toBe(true); // forgotten, so admitted again
    expect((await store.decide("a", policy, 1)).allowed).toBe(false); // kept
  });

  it("reclaims expired state", async () => {
    const clock = manualClock(10_000);
    const store = new MemoryStore({ clock: clock.read });
    const policy = perSecond(5);
    for (let i = 0; i < 50; i++) await store.decide(`k${i}`, policy, 1);
    expect(store.size).toBe(50);
    clock.nowMs += 2000;
    for (let i = 0; i < 20; i++) await store.decide(`fresh${i}`, policy, 1);
    // Each write sweeps a few expired entries from the old end.
    expect(store.size).toBeLessThan(50);
  });

  it("is safe under many concurrent async callers: exactly the limit is admitted", async () => {
    const store = new MemoryStore();
    const policy = compilePolicy({ algorithm: "sliding_window_log", limit: 100, periodMs: 60_000 });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => store.decide("hot", policy, 1)),
    );
    expect(results.filter((d) => d.allowed)).toHaveLength(100);
  });

  it("rejects bad costs and over-long keys", async () => {
    const store = new MemoryStore();
    await expect(store.decide("k", perSecond(1), 0)).rejects.toMatchObject({
      code: "SCALEOUT_RL_INVALID_COST",
    });
    await expect(store.decide("x".repeat(2000), perSecond(1), 1)).rejects.toMatchObject({
      code: "SCALEOUT_RL_INVALID_KEY",
    });
  });
});

describe("redis store", () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis({ port: server.port, host: "127.0.0.1" });
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it("reloads scripts after SCRIPT FLUSH (NOSCRIPT) and keeps deciding", async () => {
    const store = new RedisStore({ client, prefix: "flush:" });
    const policy = perSecond(1000);
    await store.loadScripts();
    await store.decide("k", policy, 1);
    expect(store.scriptReloads).toBe(0);
    await client.script("FLUSH");
    const decision = await store.decide("k", policy, 1);
    expect(decision.allowed).toBe(true);
    expect(store.scriptReloads).toBe(1);
    await store.decide("k", policy, 1);
    expect(store.scriptReloads).toBe(1);
  });

  it("uses hash-tagged keys that expire, and Redis TIME as the clock", async () => {
    const store = new RedisStore({ client, prefix: "ttl:" });
    const policy = compilePolicy({ algorithm: "token_bucket", limit: 10, periodMs: 1000 });
    const key = store.redisKey("user:42", "token_bucket");
    expect(key).toBe("ttl:{user:42}:tb");
    await store.decide("user:42", policy, 3);
    const ttl = await client.pttl(key);
    // Three tokens refill in 300 ms; the key lives exactly that long.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    // The sliding log's list shares the slot with nothing else but still carries the tag.
    expect(store.redisKey("a}b", "sliding_window_log")).toBe("rl:{a}b}:swl".replace("rl:", "ttl:"));
    expect(() => new RedisStore({ client, prefix: "bad{" })).toThrow(/must not contain/);
  });

  it("fixed window on Redis time: a counter key that expires exactly at its window end", async () => {
    const store = new RedisStore({ client, prefix: "fwt:" });
    const periodMs = 60_000;
    const policy = compilePolicy({ algorithm: "fixed_window", limit: 3, periodMs });
    // A run that straddles a window edge (rare with 60 s) is repeated on a fresh key.
    for (let attempt = 0; ; attempt++) {
      const user = `u${attempt}`;
      const before = await redisNowMs(client);
      const decisions = [];
      for (const cost of [1, 2, 1, 4]) decisions.push(await store.decide(user, policy, cost));
      const after = await redisNowMs(client);
      const windowEndMs = before - (before % periodMs) + periodMs;
      if (after >= windowEndMs && attempt < 3) continue;
      expect(decisions.map((d) => [d.allowed, d.remaining, d.retryAfterMs])).toEqual([
        [true, 2, 0],
        [true, 0, 0],
        [false, 0, decisions[2]!.resetMs],
        [false, 0, -1],
      ]);
      for (const d of decisions) {
        expect(d.resetMs).toBeGreaterThanOrEqual(windowEndMs - after);
        expect(d.resetMs).toBeLessThanOrEqual(windowEndMs - before);
      }
      const key = store.redisKey(user, "fixed_window");
      expect(await client.type(key)).toBe("string");
      expect(await client.get(key)).toBe("3");
      expect(await client.call("PEXPIRETIME", key)).toBe(windowEndMs);
      return;
    }
  });

  it("fixed window on Redis time: expiry starts the next window; so does a key without expiry", async () => {
    const store = new RedisStore({ client, prefix: "fwn:" });
    const policy = compilePolicy({ algorithm: "fixed_window", limit: 1, periodMs: 200 });
    const key = store.redisKey("u", "fixed_window");
    await store.decide("u", policy, 1);
    const denied = await store.decide("u", policy, 1);
    if (!denied.allowed) {
      await new Promise((resolve) => setTimeout(resolve, denied.resetMs + 20));
    }
    expect(await store.decide("u", policy, 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(Number(await client.call("PEXPIRETIME", key)) % 200).toBe(0);
    // State without an expiry (written by someone else) cannot be placed in a window.
    await client.set(key, "7");
    expect(await store.decide("u", policy, 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await client.pttl(key)).toBeGreaterThan(0);
    // A cost above the limit on a fresh window leaves no state behind.
    await client.del(key);
    expect(await store.decide("u", policy, 2)).toMatchObject({ allowed: false, retryAfterMs: -1 });
    expect(await client.exists(key)).toBe(0);
  });

  it("one decision is one round trip (one EVALSHA)", async () => {
    const store = new RedisStore({ client, prefix: "rtt:" });
    await store.loadScripts();
    const evalshaBefore = await evalshaCalls(client);
    const sent = countCommands(client);
    const policy = perSecond(1_000_000);
    for (let i = 0; i < 200; i++) await store.decide(`k${i % 7}`, policy, 1);
    const afterSent = sent.count();
    expect(afterSent).toBe(200);
    expect((await evalshaCalls(client)) - evalshaBefore).toBe(200);
  });
});

/** Redis's clock in ms (TIME). */
async function redisNowMs(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Calls of EVALSHA the server executed, from INFO commandstats. */
async function evalshaCalls(client: Redis): Promise<number> {
  const info = await client.info("commandstats");
  return Number(info.match(/cmdstat_evalsha:calls=(\d+)/)?.[1] ?? 0);
}

describe("guarded store: a dead Redis never hangs a request", () => {
  const policy = perSecond(2);

  it("times out each hung call on its own budget while the calls around it succeed", async () => {
    const memory = new MemoryStore();
    let hang = false;
    const flaky: RateLimitStore = {
      name: "flaky",
      decide: (key, p, cost) => (hang ? new Promise(() => {}) : memory.decide(key, p, cost)),
      ping: async () => true,
      close: async () => {},
    };
    const store = new GuardedStore({ store: flaky, timeoutMs: 80, failureMode: "closed" });
    const generous = perSecond(1_000_000);
    const quick = async (n: number) => {
      for (let i = 0; i < n; i++)
        expect((await store.decide("k", generous, 1)).degraded).toBeUndefined();
    };
    await quick(50);
    hang = true;
    const started = performance.now();
    const hung = [store.decide("h1", generous, 1), store.decide("h2", generous, 1)];
    hang = false;
    await quick(50);
    const late = await Promise.all(hung);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(late.map((d) => d.degraded)).toEqual(["fail-closed", "fail-closed"]);
    expect(store.failures).toBe(2);
    await quick(10);
    expect(store.failures).toBe(2);
  });

  it("fails open, fails closed, or falls back to memory when the port is closed", async () => {
    const port = await freePort();
    const dead = new Redis({
      port,
      host: "127.0.0.1",
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    dead.on("error", () => {});
    const registry = new Registry();
    const metrics = new RateLimitMetrics(registry);
    const events: StoreFailureEvent[] = [];
    const open = new GuardedStore({
      store: new RedisStore({ client: dead }),
      timeoutMs: 200,
      metrics,
    });
    open.on("failure", (e: StoreFailureEvent) => events.push(e));
    const closed = new GuardedStore({
      store: new RedisStore({ client: dead }),
      timeoutMs: 200,
      failureMode: "closed",
    });
    const withFallback = new GuardedStore({
      store: new RedisStore({ client: dead }),
      timeoutMs: 200,
      fallback: new MemoryStore(),
    });
    try {
      const a = await open.decide("k", policy, 1);
      expect(a).toMatchObject({ allowed: true, degraded: "fail-open" });
      const b = await closed.decide("k", policy, 1);
      expect(b).toMatchObject({ allowed: false, degraded: "fail-closed" });
      const fallbackDecisions = [];
      for (let i = 0; i < 3; i++) fallbackDecisions.push(await withFallback.decide("k", policy, 1));
      expect(fallbackDecisions.map((d) => d.allowed)).toEqual([true, true, false]);
      expect(fallbackDecisions[0]!.degraded).toBe("fallback");
      expect(events).toHaveLength(1);
      expect(events[0]!.outcome).toBe("fail-open");
      const text = await registry.metrics();
      expect(text).toMatch(
        /scaleout_ratelimit_store_errors_total\{store="redis",reason="(timeout|error)",outcome="fail-open"\} 1/,
      );
      expect(await open.ping()).toBe(false);
    } finally {
      dead.disconnect();
    }
  });

  it("times out when Redis stops answering mid-test (SIGSTOP), then fails over after SIGKILL", async () => {
    const server = await startRedisServer();
    const client = new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    const redisStore = new RedisStore({ client });
    // Connected and scripts loaded first: on a busy machine that alone can outlast the timeout.
    await redisStore.loadScripts();
    const store = new GuardedStore({ store: redisStore, timeoutMs: 300, failureMode: "closed" });
    const reasons: string[] = [];
    store.on("failure", (e: StoreFailureEvent) => reasons.push(e.reason));
    try {
      expect((await store.decide("k", policy, 1)).degraded).toBeUndefined();
      server.process.kill("SIGSTOP"); // alive but silent: only the timeout can save us
      const frozen = await store.decide("k", policy, 1);
      expect(frozen).toMatchObject({ allowed: false, degraded: "fail-closed" });
      expect(reasons).toEqual(["timeout"]);
      server.process.kill("SIGCONT");
      await server.stop(true); // now it is gone for good
      const gone = await store.decide("k", policy, 1);
      expect(gone).toMatchObject({ allowed: false, degraded: "fail-closed" });
      expect(reasons).toHaveLength(2);
    } finally {
      client.disconnect();
    }
  });
});
