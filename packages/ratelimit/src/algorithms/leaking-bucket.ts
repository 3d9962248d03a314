/**
 * Leaking bucket. Requests fill a bucket of `capacity` that drains at
 * limit/period. In "reject" mode a request that would overflow is denied
 * (the chapter's fixed-size queue, measured as a level). In "queue" mode an
 * admitted request also learns how long to wait (`delayMs`) so requests leave
 * at the constant rate: the queue is bounded by the capacity and the wait by
 * maxWaitMs. State: (level, lastMs), two numbers per key.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface LeakingBucketState {
  level: number;
  lastMs: number;
}

export const leakingBucket: Algorithm<LeakingBucketState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<LeakingBucketState> {
    const full = policy.capacity * policy.unitScale;
    const need = cost * policy.unitScale;
    let level = 0;
    if (state !== undefined) {
      const elapsedMs = Math.max(0, nowMs - state.lastMs);
      level = Math.max(0, state.level - elapsedMs * policy.refillPerMs);
    }
    const lastMs = state === undefined ? nowMs : Math.max(nowMs, state.lastMs);
    const drainMs = (units: number): number =>
      policy.refillPerMs > 0 ? Math.ceil(units / policy.refillPerMs) : 0;
    if (need > full || policy.refillPerMs === 0) {
      return {
        state: reuse(state, level, lastMs),
        decision: denied(
          policy,
          Math.floor((full - level) / policy.unitScale),
          drainMs(level),
          RETRY_NEVER,
        ),
        ttlMs: drainMs(level),
      };
    }
    // Waiting time in queue mode: everything already in the bucket must leak first.
    const waitMs = policy.queue ? drainMs(level) : 0;
    const overflowMs = level + need > full ? drainMs(level + need - full) : 0;
    const overWaitMs = policy.queue && waitMs > policy.maxWaitMs ? waitMs - policy.maxWaitMs : 0;
    if (overflowMs === 0 && overWaitMs === 0) {
      level += need;
      return {
        state: reuse(state, level, lastMs),
        decision: allowed(
          policy,
          Math.floor((full - level) / policy.unitScale),
          drainMs(level),
          waitMs,
        ),
        ttlMs: drainMs(level),
      };
    }
    return {
      state: reuse(state, level, lastMs),
      decision: denied(
        policy,
        Math.floor((full - level) / policy.unitScale),
        drainMs(level),
        Math.max(overflowMs, overWaitMs),
      ),
      ttlMs: drainMs(level),
    };
  },
};

/** Writes the new state into the old object (no allocation on the hot path; see Algorithm). */
function reuse(
  state: LeakingBucketState | undefined,
  level: number,
  lastMs: number,
): LeakingBucketState {
  if (state === undefined) return { level, lastMs };
  state.level = level;
  state.lastMs = lastMs;
  return state;
}
