/**
 * Every constant the estimator's arithmetic depends on, in one place, each with
 * the reason for its value. Changing one changes published numbers: the tests
 * that pin the chapter's worked example will say so.
 */

/** 24 × 60 × 60. The chapter divides daily counts by "24 hour / 3600 seconds". */
export const SECONDS_PER_DAY = 86_400;

/**
 * Days in a year for rates and retention. The chapter computes "30 TB × 365 × 5
 * years", so a year is 365 days here (leap days are noise at envelope precision).
 */
export const DAYS_PER_YEAR = 365;

/**
 * Days in a year for the availability table only. The chapter's table gives
 * 8.77 hours a year at 99.9%, which is 0.1% of 365.25 days (365 days would give
 * 8.76), so the table uses the average Gregorian-ish year that SLAs use.
 */
export const DAYS_PER_YEAR_AVAILABILITY = 365.25;

/** A month for the availability table: 30 days, the usual SLA accounting month. */
export const DAYS_PER_MONTH_AVAILABILITY = 30;

/** "Peak QPS = 2 × QPS" is the chapter's assumption when none is given. */
export const DEFAULT_PEAK_FACTOR = 2;

/** With a hot fraction but no window, cache the hot part of one day of new data. */
export const DEFAULT_CACHE_WINDOW_SECONDS = SECONDS_PER_DAY;

/** A file is written once and each object replicated once unless told otherwise. */
export const DEFAULT_REPLICATION_FACTOR = 1;

/**
 * Significant digits in human renderings. Three keeps "3.47k" checkable against
 * the formula while staying an estimate; JSON carries the unrounded value.
 */
export const HUMAN_SIGNIFICANT_DIGITS = 3;

/** Bits in a byte: bandwidth is quoted both in bytes/s and bits/s. */
export const BITS_PER_BYTE = 8;

/** Upper bound on an assumptions file, so a wrong path to a huge file fails fast. */
export const ASSUMPTIONS_FILE_SIZE_BYTES_MAX = 1_000_000;

/** Upper bound on object kinds in one file: an estimate, not a schema dump. */
export const OBJECT_KINDS_MAX = 64;
