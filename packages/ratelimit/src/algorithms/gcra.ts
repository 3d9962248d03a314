/**
 * GCRA (generic cell rate algorithm), the virtual-scheduling form of the
 * leaking bucket: one number per key, the theoretical arrival time (TAT) of
 * the next request. A request of cost c moves TAT by c x T (T = period/limit)
 * and is admitted if the new TAT is at most tau = burst x T ahead of now.
 * Same admissions as a token bucket of `burst`, with the smallest state.
 * TAT is a double of milliseconds (T may be fractional); Redis keeps it
 * printed with 17 significant digits, so both stores compute the same values.
 */
import { RETRY_NEVER } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";
import { type Algorithm, allowed, denied, type Step } from "./algorithm.js";

export interface GcraState {
  tatMs: number;
}

export const gcra: Algorithm<GcraState> = {
  decide(policy: CompiledPolicy, state, nowMs, cost): Step<GcraState> {
    const interval = policy.emissionIntervalMs;
    const tolerance = policy.toleranceMs;
    const tatMs = state === undefined ? nowMs : Math.max(state.tatMs, nowMs);
    const remainingAt = (tat: number): number =>
      interval > 0 ? Math.max(0, Math.floor((tolerance - (tat - nowMs)) / interval)) : 0;
    const resetAt = (tat: number): number => Math.ceil(tat - nowMs);
    if (cost > policy.capacity) {
      return {
        state: reuse(state, tatMs),
        decision: denied(policy, remainingAt(tatMs), resetAt(tatMs), RETRY_NEVER),
        ttlMs: resetAt(tatMs),
      };
    }
    const newTatMs = tatMs + cost * interval;
    if (newTatMs - nowMs <= tolerance) {
      return {
        state: reuse(state, newTatMs),
        decision: allowed(policy, remainingAt(newTatMs), resetAt(newTatMs)),
        ttlMs: resetAt(newTatMs),
      };
    }
    return {
      state: reuse(state, tatMs),
      decision: denied(
        policy,
        remainingAt(tatMs),
        resetAt(tatMs),
        Math.ceil(newTatMs - tolerance - nowMs),
      ),
      ttlMs: resetAt(tatMs),
    };
  },
};

/** Writes the new state into the old object (no allocation on the hot path; see Algorithm). */
function reuse(state: GcraState | undefined, tatMs: number): GcraState {
  if (state === undefined) return { tatMs };
  state.tatMs = tatMs;
  return state;
}
