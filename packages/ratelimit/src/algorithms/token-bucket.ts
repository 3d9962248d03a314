/**
 * Token bucket. A bucket of `capacity` tokens refills at limit/period; a
 * request takes `cost` tokens or is denied. Admits a burst of `capacity` at
 * once, then the refill rate. State: (level, lastMs), two numbers per key.
 *
 * Levels are kept in scaled units (one token = policy.unitScale units,
 * policy.refillPerMs units per ms) so every operation is on exact integers.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface TokenBucketState {
  level: number;
  lastMs: number;
}

export const tokenBucket: Algorithm<TokenBucketState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<TokenBucketState> {
    const full = policy.capacity * policy.unitScale;
    const need = cost * policy.unitScale;
    let level = full;
    if (state !== undefined) {
      const elapsedMs = Math.max(0, nowMs - state.lastMs);
      level = Math.min(full, state.level + elapsedMs * policy.refillPerMs);
    }
    const lastMs = state === undefined ? nowMs : Math.max(nowMs, state.lastMs);
    if (need > full) {
      const resetMs = resetOf(full, level, policy);
      return {
        state: reuse(state, level, lastMs),
        decision: denied(policy, Math.floor(level / policy.unitScale), resetMs, RETRY_NEVER),
        ttlMs: resetMs,
      };
    }
    if (level >= need) {
      level -= need;
      const resetMs = resetOf(full, level, policy);
      return {
        state: reuse(state, level, lastMs),
        decision: allowed(policy, Math.floor(level / policy.unitScale), resetMs),
        ttlMs: resetMs,
      };
    }
    const resetMs = resetOf(full, level, policy);
    const retryAfterMs =
      policy.refillPerMs > 0 ? Math.ceil((need - level) / policy.refillPerMs) : RETRY_NEVER;
    return {
      state: reuse(state, level, lastMs),
      decision: denied(policy, Math.floor(level / policy.unitScale), resetMs, retryAfterMs),
      ttlMs: resetMs,
    };
  },
};

function resetOf(full: number, level: number, policy: CompiledPolicy): number {
  return policy.refillPerMs > 0 ? Math.ceil((full - level) / policy.refillPerMs) : 0;
}

/** Writes the new state into the old object (no allocation on the hot path; see Algorithm). */
function reuse(
  state: TokenBucketState | undefined,
  level: number,
  lastMs: number,
): TokenBucketState {
  if (state === undefined) return { level, lastMs };
  state.level = level;
  state.lastMs = lastMs;
  return state;
}
