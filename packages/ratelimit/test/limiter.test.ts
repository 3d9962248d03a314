/** The RateLimiter front door: consume, and take with the leaking bucket queue. */
import { describe, expect, it } from "vitest";
import { RateLimiter } from "../src/limiter.js";
import { MemoryStore } from "../src/stores/memory-store.js";
import { manualClock } from "./helpers/stores.js";

describe("RateLimiter", () => {
  it("consumes per key with weights", async () => {
    const clock = manualClock(1_000_000);
    const limiter = new RateLimiter({
      policy: { algorithm: "token_bucket", limit: 10, periodMs: 1000, burst: 5 },
      store: new MemoryStore({ clock: clock.read }),
    });
    expect((await limiter.consume("a", 3)).remaining).toBe(2);
    expect((await limiter.consume("a", 3)).allowed).toBe(false);
    expect((await limiter.consume("b", 5)).allowed).toBe(true);
    await expect(limiter.consume("a", 0)).rejects.toMatchObject({
      code: "SCALEOUT_RL_INVALID_COST",
    });
    await expect(limiter.take("b")).rejects.toMatchObject({ code: "SCALEOUT_RL_OVER_LIMIT" });
    await limiter.close();
  });

  it("take() queues: each caller waits its turn, and a full queue is refused", async () => {
    // One request every 20 ms, at most 3 queued. The store's clock stands still, so
    // the five calls arrive at the same instant however slowly the machine runs them.
    const clock = manualClock(1_000_000);
    const limiter = new RateLimiter({
      policy: {
        algorithm: "leaking_bucket",
        limit: 50,
        periodMs: 1000,
        burst: 3,
        leakMode: "queue",
        maxWaitMs: 1000,
      },
      store: new MemoryStore({ clock: clock.read }),
    });
    const queued = await Promise.allSettled([1, 2, 3, 4, 5].map(() => limiter.take("uploads")));
    const fulfilled = queued.filter((r) => r.status === "fulfilled").map((r) => r.value.delayMs);
    const rejected = queued
      .filter((r) => r.status === "rejected")
      .map((r) => (r.reason as { code: string }).code);
    // 3 admitted, each waiting one leak interval longer; the other 2 find the queue full.
    expect(fulfilled).toEqual([0, 20, 40]);
    expect(rejected).toEqual(["SCALEOUT_RL_QUEUE_FULL", "SCALEOUT_RL_QUEUE_FULL"]);
  });
});
