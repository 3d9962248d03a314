/**
 * One conformance suite for every algorithm on every store: the same cases
 * and the same expected decisions, with a controllable clock (for Redis the
 * clock is passed into the Lua script). A differential property test then
 * drives memory and Redis with the same random traffic and requires
 * identical decisions.
 */
import { type RedisServer, startRedisServer } from "@scaleout/testkit";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../src/decision.js";
import { ALGORITHMS, compilePolicy, type Policy } from "../src/policy.js";
import { MemoryStore } from "../src/stores/memory-store.js";
import { RedisStore } from "../src/stores/redis-store.js";
import { manualClock, storeFactories } from "./helpers/stores.js";

/** Aligned to 1 s and 60 s windows so window edges are easy to read in the cases. */
const T0 = 1_699_999_980_000;

type Expect = Partial<Decision>;
interface Case {
  name: string;
  policy: Policy;
  steps: [atMs: number, cost: number, expected: Expect][];
}

const ok = (remaining: number, resetMs: number, delayMs = 0): Expect => ({
  allowed: true,
  remaining,
  resetMs,
  retryAfterMs: 0,
  delayMs,
});
const no = (remaining: number, resetMs: number, retryAfterMs: number): Expect => ({
  allowed: false,
  remaining,
  resetMs,
  retryAfterMs,
  delayMs: 0,
});

const CASES: Case[] = [
  {
    name: "token bucket: burst of 5, then one token per 100 ms; weights; cost above capacity",
    policy: { algorithm: "token_bucket", limit: 10, periodMs: 1000, burst: 5 },
    steps: [
      [0, 1, ok(4, 100)],
      [0, 1, ok(3, 200)],
      [0, 1, ok(2, 300)],
      [0, 1, ok(1, 400)],
      [0, 1, ok(0, 500)],
      [0, 1, no(0, 500, 100)],
      [50, 1, no(0, 450, 50)],
      [100, 1, ok(0, 500)],
      [100, 6, no(0, 500, -1)],
      [1000, 3, ok(2, 300)],
    ],
  },
  {
    name: "leaking bucket (reject): capacity 3 draining 2/s",
    policy: { algorithm: "leaking_bucket", limit: 2, periodMs: 1000, burst: 3 },
    steps: [
      [0, 1, ok(2, 500)],
      [0, 2, ok(0, 1500)],
      [0, 1, no(0, 1500, 500)],
      [400, 1, no(0, 1100, 100)],
      [500, 1, ok(0, 1500)],
      [500, 4, no(0, 1500, -1)],
    ],
  },
  {
    name: "leaking bucket (queue): admitted requests wait their turn, bounded wait",
    policy: {
      algorithm: "leaking_bucket",
      limit: 2,
      periodMs: 1000,
      burst: 3,
      leakMode: "queue",
      maxWaitMs: 1000,
    },
    steps: [
      [0, 1, ok(2, 500, 0)],
      [0, 1, ok(1, 1000, 500)],
      [0, 1, ok(0, 1500, 1000)],
      [0, 1, no(0, 1500, 500)],
      [600, 1, ok(0, 1400, 900)],
    ],
  },
  {
    name: "fixed window: 3 per second, reset at the edge, 6 pass around the edge",
    policy: { algorithm: "fixed_window", limit: 3, periodMs: 1000 },
    steps: [
      [0, 1, ok(2, 1000)],
      [500, 2, ok(0, 500)],
      [600, 1, no(0, 400, 400)],
      [999, 4, no(0, 1, -1)],
      [1000, 3, ok(0, 1000)],
    ],
  },
  {
    name: "sliding window log: exact rolling count, retry when the oldest entries leave",
    policy: { algorithm: "sliding_window_log", limit: 3, periodMs: 1000 },
    steps: [
      [0, 1, ok(2, 1000)],
      [500, 2, ok(0, 1000)],
      [600, 1, no(0, 900, 400)],
      [1000, 1, ok(0, 1000)],
      [1000, 2, no(0, 1000, 500)],
      [1500, 2, ok(0, 1000)],
      [1500, 4, no(0, 1000, -1)],
    ],
  },
  {
    name: "sliding window counter: previous window weighted by overlap",
    policy: { algorithm: "sliding_window_counter", limit: 10, periodMs: 1000 },
    steps: [
      [0, 5, ok(5, 2000)],
      [900, 5, ok(0, 1100)],
      [950, 1, no(0, 1050, 150)],
      [1100, 1, ok(0, 1900)],
      [1200, 1, ok(0, 1800)],
      [1250, 1, no(0, 1750, 50)],
      [1300, 1, ok(0, 1700)],
      [1300, 11, no(0, 1700, -1)],
    ],
  },
  {
    name: "GCRA: burst 3 at 10/s",
    policy: { algorithm: "gcra", limit: 10, periodMs: 1000, burst: 3 },
    steps: [
      [0, 1, ok(2, 100)],
      [0, 2, ok(0, 300)],
      [0, 1, no(0, 300, 100)],
      [150, 1, ok(0, 250)],
      [150, 4, no(0, 250, -1)],
      [1000, 3, ok(0, 300)],
    ],
  },
  {
    name: "limit 0 denies everything (envoy's way to ban a value)",
    policy: { algorithm: "token_bucket", limit: 0, periodMs: 1000 },
    steps: [
      [0, 1, no(0, 0, -1)],
      [5000, 1, no(0, 0, -1)],
    ],
  },
];

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const factories = storeFactories(() => redis.port);

describe.each(Object.keys(factories))("conformance on the %s store", (storeName) => {
  it("covers every algorithm", () => {
    const covered = new Set(CASES.map((c) => c.policy.algorithm));
    expect([...covered].sort()).toEqual([...ALGORITHMS].sort());
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const clock = manualClock(T0);
    const store = factories[storeName]!(clock.read);
    const policy = compilePolicy(testCase.policy);
    const key = `case-${testCase.name}-${Math.random()}`;
    try {
      for (const [index, [atMs, cost, expected]] of testCase.steps.entries()) {
        clock.nowMs = T0 + atMs;
        const decision = await store.decide(key, policy, cost);
        expect({ step: index, ...decision }).toMatchObject({
          step: index,
          ...expected,
          limit: policy.limit,
        });
      }
    } finally {
      await store.close();
    }
  });
});

describe("memory and Redis agree on random traffic (differential)", () => {
  const policyArbitrary = fc.record({
    algorithm: fc.constantFrom(...ALGORITHMS),
    limit: fc.integer({ min: 1, max: 12 }),
    periodMs: fc.constantFrom(1000, 1500, 700, 60_000),
    burst: fc.integer({ min: 1, max: 15 }),
    queue: fc.boolean(),
    maxWaitMs: fc.integer({ min: 0, max: 3000 }),
  });
  const trafficArbitrary = fc.array(
    fc.record({ gapMs: fc.integer({ min: 0, max: 900 }), cost: fc.integer({ min: 1, max: 4 }) }),
    { minLength: 1, maxLength: 40 },
  );

  it("gives identical decisions for every algorithm", async () => {
    const client = new Redis({ port: redis.port, host: "127.0.0.1" });
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(policyArbitrary, trafficArbitrary, async (raw, traffic) => {
          const bucket = ["token_bucket", "leaking_bucket", "gcra"].includes(raw.algorithm);
          const policy = compilePolicy({
            algorithm: raw.algorithm,
            limit: raw.limit,
            periodMs: raw.periodMs,
            ...(bucket ? { burst: raw.burst } : {}),
            ...(raw.algorithm === "leaking_bucket"
              ? { leakMode: raw.queue ? "queue" : "reject", maxWaitMs: raw.maxWaitMs }
              : {}),
          } as Policy);
          const clock = manualClock(T0 + 123);
          const memory = new MemoryStore({ clock: clock.read });
          const redisStore = new RedisStore({ client, clock: clock.read, prefix: "diff:" });
          const key = `k${run++}`;
          for (const { gapMs, cost } of traffic) {
            clock.nowMs += gapMs;
            const expected = await memory.decide(key, policy, cost);
            const actual = await redisStore.decide(key, policy, cost);
            expect(actual).toEqual(expected);
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      client.disconnect();
    }
  });
});
