/**
 * Envoy's rate limit units and their lengths. Month and year follow envoy's
 * ratelimit service: 30 days and 365 days.
 */
export const UNITS = ["second", "minute", "hour", "day", "month", "year"] as const;
export type RateLimitUnit = (typeof UNITS)[number];

export const UNIT_MS: Record<RateLimitUnit, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

/** Envoy's proto enum numbers (RateLimitResponse.RateLimit.Unit, type.v3.RateLimitUnit). */
export const UNIT_PROTO_NUMBER: Record<RateLimitUnit, number> = {
  second: 1,
  minute: 2,
  hour: 3,
  day: 4,
  month: 5,
  year: 6,
};

export function parseUnit(raw: string): RateLimitUnit | undefined {
  const lower = raw.toLowerCase();
  return (UNITS as readonly string[]).includes(lower) ? (lower as RateLimitUnit) : undefined;
}
