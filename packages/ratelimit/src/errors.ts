/**
 * The package's error catalogue. Every error thrown on purpose carries a
 * stable `code` so callers can branch on it without parsing messages.
 */
export const RATE_LIMIT_ERROR_CODES = {
  SCALEOUT_RL_INVALID_POLICY: "invalid rate limit policy",
  SCALEOUT_RL_INVALID_COST: "invalid request cost",
  SCALEOUT_RL_INVALID_KEY: "invalid rate limit key",
  SCALEOUT_RL_STORE_TIMEOUT: "the store did not answer within the per-call timeout",
  SCALEOUT_RL_STORE_FAILED: "the store failed",
  SCALEOUT_RL_STORE_CLOSED: "the store is closed",
  SCALEOUT_RL_RULES_INVALID: "invalid rate limit rules",
  SCALEOUT_RL_RULES_IO: "rate limit rules could not be read",
  SCALEOUT_RL_QUEUE_FULL: "the leaking bucket queue is full",
  SCALEOUT_RL_OVER_LIMIT: "over the rate limit",
  SCALEOUT_RL_REQUEST_INVALID: "invalid rate limit request",
  SCALEOUT_RL_CONFIG_INVALID: "invalid service configuration",
} as const;

export type RateLimitErrorCode = keyof typeof RATE_LIMIT_ERROR_CODES;

export class RateLimitError extends Error {
  readonly code: RateLimitErrorCode;

  constructor(code: RateLimitErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${RATE_LIMIT_ERROR_CODES[code]}: ${detail}`, options);
    this.name = "RateLimitError";
    this.code = code;
  }
}

export function isRateLimitError(
  error: unknown,
  code?: RateLimitErrorCode,
): error is RateLimitError {
  return error instanceof RateLimitError && (code === undefined || error.code === code);
}
