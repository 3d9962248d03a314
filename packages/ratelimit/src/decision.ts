/**
 * The answer to "may this request go ahead?", identical in shape for every
 * algorithm and every store. All durations are whole milliseconds.
 */
export interface Decision {
  allowed: boolean;
  /** The policy's limit (requests per period) as advertised to clients. */
  limit: number;
  /** Whole requests of cost 1 that would still be admitted right now, after this decision. */
  remaining: number;
  /** Milliseconds until the quota is fully restored (window end, bucket full). */
  resetMs: number;
  /**
   * When denied: milliseconds after which the same request can succeed (a hint for
   * the approximate sliding window counter), or -1 when it never can because its
   * cost exceeds the capacity. 0 when allowed.
   */
  retryAfterMs: number;
  /** Leaking bucket in queue mode: how long the caller must wait before proceeding. Otherwise 0. */
  delayMs: number;
}

/** Marks a retry that can never succeed (cost above capacity). */
export const RETRY_NEVER = -1;
