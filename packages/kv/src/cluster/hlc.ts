/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): a
 * timestamp that stays close to physical time but never goes backwards and always
 * orders a receive after its send. Used to pick the "newest" sibling for
 * Redis-style GET and for last-write-wins mode; never used for causality (that is
 * what the version vectors are for).
 *
 * The clock reads no time itself: callers pass the node's physical time in.
 */

export interface HlcTimestamp {
  /** Milliseconds: the largest physical time seen. */
  readonly wallMs: number;
  /** Tie breaker among events with the same wallMs. */
  readonly logical: number;
}

export const HLC_ZERO: HlcTimestamp = { wallMs: 0, logical: 0 };

export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

export function maxHlc(a: HlcTimestamp, b: HlcTimestamp): HlcTimestamp {
  return compareHlc(a, b) >= 0 ? a : b;
}

export class HybridLogicalClock {
  private last: HlcTimestamp;

  constructor(start: HlcTimestamp = HLC_ZERO) {
    this.last = start;
  }

  /** The latest timestamp issued or observed. */
  peek(): HlcTimestamp {
    return this.last;
  }

  /** A timestamp for a local event (a write) at physical time `nowMs`. */
  now(nowMs: number): HlcTimestamp {
    const wallMs = Math.max(this.last.wallMs, nowMs);
    const logical = wallMs === this.last.wallMs ? this.last.logical + 1 : 0;
    this.last = { wallMs, logical };
    return this.last;
  }

  /** Advance past a timestamp received in a message, at physical time `nowMs`. */
  observe(remote: HlcTimestamp, nowMs: number): HlcTimestamp {
    const wallMs = Math.max(this.last.wallMs, remote.wallMs, nowMs);
    let logical: number;
    if (wallMs === this.last.wallMs && wallMs === remote.wallMs) {
      logical = Math.max(this.last.logical, remote.logical) + 1;
    } else if (wallMs === this.last.wallMs) {
      logical = this.last.logical + 1;
    } else if (wallMs === remote.wallMs) {
      logical = remote.logical + 1;
    } else {
      logical = 0;
    }
    this.last = { wallMs, logical };
    return this.last;
  }
}
