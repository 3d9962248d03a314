/**
 * Sliding window log. Keeps the timestamp of every admitted unit of cost for
 * the last periodMs and admits while fewer than `limit` are in the window
 * (now - periodMs, now]. Exact at every instant, no edge burst, but memory is
 * O(limit) per key: one timestamp per admitted request still in the window.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface SlidingWindowLogState {
  /** Admission times in arrival order, one entry per unit of cost. */
  timestampsMs: number[];
}

export const slidingWindowLog: Algorithm<SlidingWindowLogState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<SlidingWindowLogState> {
    const log = state?.timestampsMs ?? [];
    const horizonMs = nowMs - policy.periodMs;
    let expired = 0;
    while (expired < log.length && log[expired]! <= horizonMs) expired++;
    if (expired > 0) log.splice(0, expired);
    const count = log.length;
    if (cost <= policy.limit && count + cost <= policy.limit) {
      for (let i = 0; i < cost; i++) log.push(nowMs);
      const resetMs = log[log.length - 1]! + policy.periodMs - nowMs;
      return {
        state: state ?? { timestampsMs: log },
        decision: allowed(policy, policy.limit - log.length, resetMs),
        ttlMs: resetMs,
      };
    }
    const resetMs = count > 0 ? log[count - 1]! + policy.periodMs - nowMs : 0;
    // The request fits once enough of the oldest entries have left the window.
    const retryAfterMs =
      cost > policy.limit
        ? RETRY_NEVER
        : log[count + cost - policy.limit - 1]! + policy.periodMs - nowMs;
    return {
      state: state ?? { timestampsMs: log },
      decision: denied(policy, policy.limit - count, resetMs, retryAfterMs),
      ttlMs: resetMs,
    };
  },
};
