/**
 * The contract every algorithm meets: a pure function from (state, now, cost)
 * to (new state, decision, how long the state must be kept). No I/O and no
 * clock reads: the store supplies `nowMs` (whole milliseconds), which makes
 * the same function usable in memory, mirrored in Lua, and replayable in tests.
 *
 * Ownership of `state` passes to `decide`: it may write the new state into
 * the same object and return it. That keeps the memory store's hot path free
 * of allocations whose old-to-young pointers would make every scavenge
 * slower; a caller that needs the previous state keeps a copy.
 */
import type { Decision } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";

export interface Step<S> {
  state: S;
  decision: Decision;
  /** After this many ms without traffic the state is equivalent to "no state" and may be dropped. */
  ttlMs: number;
}

export interface Algorithm<S> {
  decide(policy: CompiledPolicy, state: S | undefined, nowMs: number, cost: number): Step<S>;
}

export function denied(
  policy: CompiledPolicy,
  remaining: number,
  resetMs: number,
  retryAfterMs: number,
): Decision {
  return { allowed: false, limit: policy.limit, remaining, resetMs, retryAfterMs, delayMs: 0 };
}

export function allowed(
  policy: CompiledPolicy,
  remaining: number,
  resetMs: number,
  delayMs = 0,
): Decision {
  return { allowed: true, limit: policy.limit, remaining, resetMs, retryAfterMs: 0, delayMs };
}
