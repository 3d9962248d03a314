/**
 * Tunables, in one place, each with the reason for its value.
 */

/** Total width of an id: 64 bits with the sign bit kept 0, so ids fit a signed int64. */
export const ID_BITS = 63;

/** Waiting out a clock step back of up to this many ms keeps NTP slews invisible to callers. */
export const DEFAULT_MAX_BACKWARDS_MS = 5;

/**
 * With a state file, time is reserved this far ahead, so the file is written
 * (and fsynced) about once every this many ms rather than once per id.
 */
export const DEFAULT_RESERVE_AHEAD_MS = 2_000;

/**
 * At start, waiting for the clock to pass a previous run's reservation is
 * bounded: a crashed run reserved at most DEFAULT_RESERVE_AHEAD_MS ahead, so a
 * longer wait means the clock really stepped back and a person should look.
 */
export const DEFAULT_MAX_STARTUP_WAIT_MS = 10_000;

/** A lag allowance above this would make decoded timestamps misleading. */
export const MAX_LAG_MS = 1_000;

/** Largest batch the HTTP service and CLI hand out at once (bounded response size). */
export const MAX_BATCH_COUNT = 10_000;

/** Worker-id lease time to live; a crashed holder's id is recycled after this long. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** Leases are renewed this many times per TTL, so one or two failed renewals are survivable. */
export const LEASE_RENEWALS_PER_TTL = 3;

/**
 * The holder stops issuing this much before its lease would expire in Redis,
 * to leave room for network latency and clock-rate differences.
 */
export const LEASE_SAFETY_MARGIN_MS = 500;

/** Key prefix for worker-id leases in Redis. */
export const DEFAULT_LEASE_KEY_PREFIX = "scaleout:snowflake";

/** Longest decimal id we even try to parse: 2^63 - 1 has 19 digits; leading zeros allowed up to this. */
export const MAX_ID_TEXT_LENGTH = 64;
