/** The local over-limit cache: what it remembers, for how long, and for which costs. */
import { describe, expect, it } from "vitest";
import type { Decision } from "../src/decision.js";
import { OverLimitCache } from "../src/rules/over-limit-cache.js";
import { manualClock } from "./helpers/stores.js";

const denied = (retryAfterMs: number): Decision => ({
  allowed: false,
  limit: 10,
  remaining: 0,
  resetMs: 5000,
  retryAfterMs,
  delayMs: 0,
});

describe("OverLimitCache", () => {
  it("answers a denied key until its retry time, with the time left, for costs at least as large", () => {
    const clock = manualClock(1000);
    const cache = new OverLimitCache(10, clock.read);
    cache.remember("k", 2, denied(3000));
    clock.nowMs += 1000;
    expect(cache.lookup("k", 2)).toMatchObject({
      allowed: false,
      retryAfterMs: 2000,
      resetMs: 4000,
    });
    expect(cache.lookup("k", 5)?.allowed).toBe(false);
    expect(cache.lookup("k", 1)).toBeUndefined(); // a cheaper request may fit: ask the store
    clock.nowMs += 2000;
    expect(cache.lookup("k", 2)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.hits).toBe(2);
  });

  it("ignores admissions and never-retry denials, is bounded, and can be cleared", () => {
    const clock = manualClock(0);
    const cache = new OverLimitCache(3, clock.read);
    cache.remember("allowed", 1, { ...denied(0), allowed: true });
    cache.remember("never", 1, denied(-1));
    expect(cache.size).toBe(0);
    for (const key of ["a", "b", "c", "d"]) cache.remember(key, 1, denied(1000));
    expect(cache.size).toBe(3);
    expect(cache.lookup("a", 1)).toBeUndefined(); // the oldest made room
    cache.clear();
    expect(cache.lookup("d", 1)).toBeUndefined();
  });
});
