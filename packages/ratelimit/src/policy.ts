/**
 * A policy says how much traffic one key may send and with which algorithm.
 * `compilePolicy` validates it once and precomputes the integer parameters
 * that the pure algorithms and the Redis scripts share, so both compute with
 * the same numbers.
 */
import { RateLimitError } from "./errors.js";

export const ALGORITHMS = [
  "token_bucket",
  "leaking_bucket",
  "fixed_window",
  "sliding_window_log",
  "sliding_window_counter",
  "gcra",
] as const;

export type AlgorithmName = (typeof ALGORITHMS)[number];

/** Leaking bucket behaviour when a request arrives: reject over capacity, or queue it and make it wait its turn. */
export type LeakMode = "reject" | "queue";

export interface Policy {
  algorithm: AlgorithmName;
  /** Requests admitted per period (the sustained rate is limit / periodMs). 0 denies everything. */
  limit: number;
  periodMs: number;
  /** Bucket capacity for token_bucket, leaking_bucket and gcra (the largest instantaneous burst). Defaults to `limit`. */
  burst?: number;
  /** leaking_bucket only. Defaults to "reject". */
  leakMode?: LeakMode;
  /** leaking_bucket in queue mode: a request that would wait longer is rejected. Defaults to periodMs. */
  maxWaitMs?: number;
}

/**
 * Largest integer an IEEE double (JavaScript number, Redis Lua number) holds
 * exactly; the scaled bucket arithmetic must stay below it.
 */
const EXACT_INTEGER_MAX = Number.MAX_SAFE_INTEGER;

/** Upper bound on periods: a year, the longest unit envoy's API knows. */
export const PERIOD_MS_MAX = 366 * 24 * 3600 * 1000;

export interface CompiledPolicy {
  readonly algorithm: AlgorithmName;
  readonly limit: number;
  readonly periodMs: number;
  /** Bucket capacity in requests (burst, or limit). */
  readonly capacity: number;
  /**
   * Buckets count in scaled units so refills stay integral: one request is
   * `unitScale` units and `refillPerMs` units leak or refill per millisecond
   * (unitScale / refillPerMs = periodMs / limit, reduced by their gcd).
   */
  readonly unitScale: number;
  readonly refillPerMs: number;
  /** GCRA emission interval and tolerance in milliseconds (may be fractional). */
  readonly emissionIntervalMs: number;
  readonly toleranceMs: number;
  readonly queue: boolean;
  readonly maxWaitMs: number;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

function invalid(detail: string): never {
  throw new RateLimitError("SCALEOUT_RL_INVALID_POLICY", detail);
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  const { algorithm, limit, periodMs } = policy;
  if (!(ALGORITHMS as readonly string[]).includes(algorithm)) {
    invalid(`algorithm "${String(algorithm)}" is not one of ${ALGORITHMS.join(", ")}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 0) invalid(`limit ${limit} must be an integer >= 0`);
  if (!Number.isSafeInteger(periodMs) || periodMs < 1 || periodMs > PERIOD_MS_MAX) {
    invalid(`periodMs ${periodMs} must be an integer in 1..${PERIOD_MS_MAX}`);
  }
  const burst = policy.burst ?? limit;
  if (!Number.isSafeInteger(burst) || burst < 0) invalid(`burst ${burst} must be an integer >= 0`);
  // A limit of 0 denies everything (envoy configs use it to ban a value), whatever the burst.
  const capacity = limit === 0 ? 0 : burst;
  if (
    policy.burst !== undefined &&
    !["token_bucket", "leaking_bucket", "gcra"].includes(algorithm)
  ) {
    invalid(`burst applies to token_bucket, leaking_bucket and gcra, not ${algorithm}`);
  }
  const divisor = limit === 0 ? periodMs : gcd(limit, periodMs);
  const unitScale = periodMs / divisor;
  const refillPerMs = limit / divisor;
  if (capacity * unitScale > EXACT_INTEGER_MAX || limit * periodMs > EXACT_INTEGER_MAX) {
    invalid(`limit/burst ${capacity} over ${periodMs} ms is too large to count exactly`);
  }
  const queue = (policy.leakMode ?? "reject") === "queue";
  if (policy.leakMode !== undefined && algorithm !== "leaking_bucket") {
    invalid(`leakMode applies to leaking_bucket only`);
  }
  const maxWaitMs = policy.maxWaitMs ?? periodMs;
  if (!Number.isSafeInteger(maxWaitMs) || maxWaitMs < 0)
    invalid(`maxWaitMs ${maxWaitMs} must be an integer >= 0`);
  const emissionIntervalMs = limit === 0 ? 0 : periodMs / limit;
  return {
    algorithm,
    limit,
    periodMs,
    capacity,
    unitScale,
    refillPerMs,
    emissionIntervalMs,
    toleranceMs: emissionIntervalMs * capacity,
    queue,
    maxWaitMs,
  };
}

/** A cost is a positive whole number of requests. */
export function validateCost(cost: number): void {
  if (!Number.isSafeInteger(cost) || cost < 1) {
    throw new RateLimitError("SCALEOUT_RL_INVALID_COST", `cost ${cost} must be an integer >= 1`);
  }
}
