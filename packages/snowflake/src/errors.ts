/**
 * The snowflake error catalogue. Every refusal has a stable code (so callers
 * and the HTTP service can branch on it) and a message that says what is wrong
 * and what to do about it.
 */

export const SnowflakeErrorCode = {
  /** A layout whose field widths, epoch or time unit are not usable. */
  LAYOUT_INVALID: "SNOWFLAKE_ERR_LAYOUT_INVALID",
  /** No preset by that name. */
  UNKNOWN_PRESET: "SNOWFLAKE_ERR_UNKNOWN_PRESET",
  /** A datacenter or machine id that does not fit its field. */
  WORKER_ID_OUT_OF_RANGE: "SNOWFLAKE_ERR_WORKER_ID_OUT_OF_RANGE",
  /** The clock went back further than the configured bound: the generator refuses. */
  CLOCK_BACKWARDS: "SNOWFLAKE_ERR_CLOCK_BACKWARDS",
  /** At start, the clock is behind time a previous run may have used (state file or lease mark). */
  CLOCK_BEHIND_RESERVATION: "SNOWFLAKE_ERR_CLOCK_BEHIND_RESERVATION",
  /** The clock is before the layout's epoch, or past the last timestamp the layout can hold. */
  TIMESTAMP_OUT_OF_RANGE: "SNOWFLAKE_ERR_TIMESTAMP_OUT_OF_RANGE",
  /** The state file exists but cannot be understood; refusing is safer than guessing. */
  STATE_FILE_CORRUPT: "SNOWFLAKE_ERR_STATE_FILE_CORRUPT",
  /** The state file belongs to another layout (epoch or time unit differ). */
  STATE_FILE_MISMATCH: "SNOWFLAKE_ERR_STATE_FILE_MISMATCH",
  /** The worker-id lease was lost (expired or taken); issuing stops until it is re-acquired. */
  LEASE_LOST: "SNOWFLAKE_ERR_LEASE_LOST",
  /** Every worker id in the datacenter is leased by someone else. */
  LEASE_UNAVAILABLE: "SNOWFLAKE_ERR_LEASE_UNAVAILABLE",
  /** An id given for decoding that is not a decimal integer in 0..2^63-1. */
  ID_INVALID: "SNOWFLAKE_ERR_ID_INVALID",
  /** A batch count that is not an integer in 1..limit. */
  COUNT_INVALID: "SNOWFLAKE_ERR_COUNT_INVALID",
  /** A service configuration value that is missing or out of range. */
  CONFIG_INVALID: "SNOWFLAKE_ERR_CONFIG_INVALID",
  /** The generator was closed. */
  CLOSED: "SNOWFLAKE_ERR_CLOSED",
} as const;

export type SnowflakeErrorCode = (typeof SnowflakeErrorCode)[keyof typeof SnowflakeErrorCode];

export class SnowflakeError extends Error {
  readonly code: SnowflakeErrorCode;

  constructor(code: SnowflakeErrorCode, message: string) {
    super(message);
    this.name = "SnowflakeError";
    this.code = code;
  }
}

/**
 * The clock moved back by more than the generator may wait out. `offsetMs` is
 * how far behind the last issued timestamp the clock was.
 */
export class ClockBackwardsError extends SnowflakeError {
  readonly offsetMs: number;
  readonly maxBackwardsMs: number;

  constructor(offsetMs: number, maxBackwardsMs: number) {
    super(
      SnowflakeErrorCode.CLOCK_BACKWARDS,
      `clock moved backwards by ${offsetMs} ms (more than the ${maxBackwardsMs} ms the generator waits out); refusing to issue ids until the clock catches up`,
    );
    this.name = "ClockBackwardsError";
    this.offsetMs = offsetMs;
    this.maxBackwardsMs = maxBackwardsMs;
  }
}

/**
 * At start, the wall clock is behind the time a previous run reserved (in the
 * state file or the lease's high-water mark). `offsetMs` is how far behind.
 */
export class ClockBehindReservationError extends SnowflakeError {
  readonly offsetMs: number;
  readonly reservedUntilMs: number;

  constructor(offsetMs: number, reservedUntilMs: number, maxWaitMs: number) {
    super(
      SnowflakeErrorCode.CLOCK_BEHIND_RESERVATION,
      `clock is ${offsetMs} ms behind time a previous run may have used (up to ${new Date(reservedUntilMs).toISOString()}); waiting is bounded to ${maxWaitMs} ms, so refusing to issue ids`,
    );
    this.name = "ClockBehindReservationError";
    this.offsetMs = offsetMs;
    this.reservedUntilMs = reservedUntilMs;
  }
}

export class LeaseLostError extends SnowflakeError {
  constructor(detail: string) {
    super(
      SnowflakeErrorCode.LEASE_LOST,
      `worker-id lease lost (${detail}); not issuing ids until it is re-acquired`,
    );
    this.name = "LeaseLostError";
  }
}
