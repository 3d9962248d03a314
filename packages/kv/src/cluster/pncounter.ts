/**
 * PN-counter CRDT (Shapiro et al., "A comprehensive study of Convergent and
 * Commutative Replicated Data Types", 2011): one grow-only count of increments
 * and one of decrements per actor; merge is the pointwise maximum; the value is
 * the sum of increments minus the sum of decrements. An INCR on each side of a
 * partition is counted once each after the merge.
 */
import { type ActorId, newVector } from "./dvv.js";

function withEntry(
  record: Readonly<Record<ActorId, number>>,
  actor: ActorId,
  value: number,
): Record<ActorId, number> {
  const out = newVector(record);
  out[actor] = value;
  return out;
}

export interface PnCounter {
  readonly increments: Readonly<Record<ActorId, number>>;
  readonly decrements: Readonly<Record<ActorId, number>>;
}

export const EMPTY_COUNTER: PnCounter = Object.freeze({
  increments: Object.freeze({}),
  decrements: Object.freeze({}),
});

/** Add `delta` (negative for DECR) on behalf of `actor`. */
export function incrementCounter(counter: PnCounter, actor: ActorId, delta: number): PnCounter {
  // No zero entries: equal counters must have equal encodings (digests, Merkle leaves).
  if (delta === 0) return counter;
  if (delta >= 0) {
    return {
      increments: withEntry(counter.increments, actor, (counter.increments[actor] ?? 0) + delta),
      decrements: counter.decrements,
    };
  }
  return {
    increments: counter.increments,
    decrements: withEntry(counter.decrements, actor, (counter.decrements[actor] ?? 0) - delta),
  };
}

export function mergeCounters(a: PnCounter, b: PnCounter): PnCounter {
  return {
    increments: maxMerge(a.increments, b.increments),
    decrements: maxMerge(a.decrements, b.decrements),
  };
}

export function counterValue(counter: PnCounter): number {
  let sum = 0;
  for (const v of Object.values(counter.increments)) sum += v;
  for (const v of Object.values(counter.decrements)) sum -= v;
  return sum;
}

/** True when `a` has some entry above `b` (`a` has seen an event `b` has not). */
export function counterExceeds(a: PnCounter, b: PnCounter): boolean {
  return exceeds(a.increments, b.increments) || exceeds(a.decrements, b.decrements);
}

export function countersEqual(a: PnCounter, b: PnCounter): boolean {
  return !counterExceeds(a, b) && !counterExceeds(b, a);
}

function maxMerge(
  a: Readonly<Record<ActorId, number>>,
  b: Readonly<Record<ActorId, number>>,
): Record<ActorId, number> {
  const out = newVector(a);
  for (const [actor, v] of Object.entries(b)) {
    if ((out[actor] ?? 0) < v) out[actor] = v;
  }
  return out;
}

function exceeds(
  a: Readonly<Record<ActorId, number>>,
  b: Readonly<Record<ActorId, number>>,
): boolean {
  for (const [actor, v] of Object.entries(a)) if ((b[actor] ?? 0) < v) return true;
  return false;
}
