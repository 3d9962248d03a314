/**
 * Sliding window counter (Cloudflare's approximation). Keeps the counts of
 * the current and the previous fixed window and estimates the rolling count
 * as previous x (share of the previous window still inside the rolling
 * window) + current. Three numbers per key; approximate: it assumes the
 * previous window's requests were spread evenly. Compared in integers
 * (everything multiplied by periodMs) so memory and Redis agree exactly.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface SlidingWindowCounterState {
  windowStartMs: number;
  current: number;
  previous: number;
}

export const slidingWindowCounter: Algorithm<SlidingWindowCounterState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<SlidingWindowCounterState> {
    const period = policy.periodMs;
    const limit = policy.limit;
    const windowStartMs = nowMs - (nowMs % period);
    let current = 0;
    let previous = 0;
    if (state !== undefined) {
      if (state.windowStartMs === windowStartMs) {
        current = state.current;
        previous = state.previous;
      } else if (state.windowStartMs === windowStartMs - period) {
        previous = state.current;
      }
    }
    const elapsedMs = nowMs - windowStartMs;
    const weighted = (cur: number): number => previous * (period - elapsedMs) + cur * period;
    const remainingOf = (cur: number): number =>
      Math.max(0, Math.floor((limit * period - weighted(cur)) / period));
    const resetOf = (cur: number): number =>
      cur > 0 ? 2 * period - elapsedMs : previous > 0 ? period - elapsedMs : 0;
    if (weighted(current) + cost * period <= limit * period) {
      current += cost;
      return {
        state: reuse(state, windowStartMs, current, previous),
        decision: allowed(policy, remainingOf(current), resetOf(current)),
        ttlMs: 2 * period - elapsedMs,
      };
    }
    let retryAfterMs: number;
    if (cost > limit) {
      retryAfterMs = RETRY_NEVER;
    } else if (current + cost <= limit) {
      // Later in this window the previous window's weight has shrunk enough.
      retryAfterMs =
        period - Math.floor(((limit - current - cost) * period) / previous) - elapsedMs;
    } else {
      // Only in the next window, once this window's count weighs less.
      retryAfterMs =
        period - elapsedMs + Math.max(0, period - Math.floor(((limit - cost) * period) / current));
    }
    return {
      state: reuse(state, windowStartMs, current, previous),
      decision: denied(
        policy,
        remainingOf(current),
        resetOf(current),
        retryAfterMs === RETRY_NEVER ? RETRY_NEVER : Math.max(1, retryAfterMs),
      ),
      ttlMs: 2 * period - elapsedMs,
    };
  },
};

/** Writes the new state into the old object (no allocation on the hot path; see Algorithm). */
function reuse(
  state: SlidingWindowCounterState | undefined,
  windowStartMs: number,
  current: number,
  previous: number,
): SlidingWindowCounterState {
  if (state === undefined) return { windowStartMs, current, previous };
  state.windowStartMs = windowStartMs;
  state.current = current;
  state.previous = previous;
  return state;
}
