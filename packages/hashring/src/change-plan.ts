/**
 * Change planning: given the ring before and after a membership change, the
 * exact ranges of the hash space whose owner changes, with the old and the
 * new owner. A key moves if and only if its hash (HashRing.hashOf) falls in
 * one of the ranges, so a store can stream exactly those ranges.
 *
 * Each ring is a list of segments covering [0, 2^32 - 1]; the segment ending
 * at point p (inclusive) belongs to p's owner, and the last segment (after the
 * highest point) wraps to the owner of the lowest point. A sweep over both
 * segment lists compares owners piece by piece: O(P_before + P_after).
 */
import { MAX_POINT } from "./constants.js";
import { HashRingError, HashRingErrorCode } from "./errors.js";
import type { HashRing, RingLayout } from "./ring.js";

/** Keys whose hash h satisfies first <= h <= last move from `from` to `to`. */
export interface OwnershipChange {
  readonly first: number;
  readonly last: number;
  readonly from: string;
  readonly to: string;
}

interface Segments {
  /** Inclusive end of each segment, ascending; the last one is MAX_POINT. */
  ends: number[];
  owners: string[];
}

function segmentsOf(layout: RingLayout): Segments {
  const { points, owners, nodes } = layout;
  const ends: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < points.length; i++) {
    // Equal points: the first one owns (the tie-break of the lookup).
    if (i > 0 && points[i] === points[i - 1]) continue;
    ends.push(points[i]!);
    ids.push(nodes[owners[i]!]!.id);
  }
  if (ends[ends.length - 1] !== MAX_POINT) {
    ends.push(MAX_POINT);
    ids.push(ids[0]!);
  }
  return { ends, owners: ids };
}

/**
 * The hash ranges that change owner from `before` to `after`, sorted by
 * `first`, adjacent ranges with the same from/to merged. Both rings must use
 * the same mode (the same key hash). Throws EMPTY_RING if either has no nodes.
 */
export function planChanges(before: HashRing, after: HashRing): OwnershipChange[] {
  if (before.mode !== after.mode) {
    throw new HashRingError(
      HashRingErrorCode.INCOMPATIBLE_RINGS,
      `cannot plan between a ${before.mode} ring and a ${after.mode} ring: keys hash differently`,
    );
  }
  const a = before.layout();
  const b = after.layout();
  if (a.points.length === 0 || b.points.length === 0) {
    throw new HashRingError(
      HashRingErrorCode.EMPTY_RING,
      "change planning needs nodes on both rings (a ring with no nodes owns nothing)",
    );
  }
  const left = segmentsOf(a);
  const right = segmentsOf(b);
  const changes: OwnershipChange[] = [];
  let i = 0;
  let j = 0;
  let start = 0;
  while (i < left.ends.length && j < right.ends.length) {
    const leftEnd = left.ends[i]!;
    const rightEnd = right.ends[j]!;
    const end = Math.min(leftEnd, rightEnd);
    const from = left.owners[i]!;
    const to = right.owners[j]!;
    if (from !== to) {
      const previous = changes[changes.length - 1];
      if (
        previous !== undefined &&
        previous.last + 1 === start &&
        previous.from === from &&
        previous.to === to
      ) {
        changes[changes.length - 1] = { first: previous.first, last: end, from, to };
      } else {
        changes.push({ first: start, last: end, from, to });
      }
    }
    start = end + 1;
    if (leftEnd === end) i++;
    if (rightEnd === end) j++;
  }
  return changes;
}

/** The change (if any) covering `hash`: binary search over a plan from planChanges. */
export function changeAt(
  plan: readonly OwnershipChange[],
  hash: number,
): OwnershipChange | undefined {
  let low = 0;
  let high = plan.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (plan[middle]!.last < hash) low = middle + 1;
    else high = middle;
  }
  const candidate = plan[low];
  return candidate !== undefined && candidate.first <= hash ? candidate : undefined;
}
