/**
 * Fixed window counter. Time is cut into windows of periodMs aligned to the
 * epoch; each window admits `limit`. Cheapest state (window start, count) but
 * up to 2 x limit can pass around a window edge (limit at the end of one
 * window, limit at the start of the next). Denied requests are not counted.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface FixedWindowState {
  windowStartMs: number;
  count: number;
}

export const fixedWindow: Algorithm<FixedWindowState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<FixedWindowState> {
    const windowStartMs = nowMs - (nowMs % policy.periodMs);
    let count = state !== undefined && state.windowStartMs === windowStartMs ? state.count : 0;
    const resetMs = windowStartMs + policy.periodMs - nowMs;
    if (count + cost <= policy.limit) {
      count += cost;
      return {
        state: reuse(state, windowStartMs, count),
        decision: allowed(policy, policy.limit - count, resetMs),
        ttlMs: resetMs,
      };
    }
    return {
      state: reuse(state, windowStartMs, count),
      decision: denied(
        policy,
        policy.limit - count,
        resetMs,
        cost > policy.limit ? RETRY_NEVER : resetMs,
      ),
      ttlMs: resetMs,
    };
  },
};

/** Writes the new state into the old object (no allocation on the hot path; see Algorithm). */
function reuse(
  state: FixedWindowState | undefined,
  windowStartMs: number,
  count: number,
): FixedWindowState {
  if (state === undefined) return { windowStartMs, count };
  state.windowStartMs = windowStartMs;
  state.count = count;
  return state;
}
