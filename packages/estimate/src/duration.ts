/**
 * Durations: "5 years", "24 hours", "1 day", "500 ms". A year is 365 days
 * (DAYS_PER_YEAR), as in the chapter's "× 365 × 5 years". Months are refused
 * because their length varies; a bare number is refused because it has no unit.
 */
import { DAYS_PER_YEAR, SECONDS_PER_DAY } from "./constants.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { formatSignificant, roundSignificant, splitNumberAndUnit } from "./number-text.js";

const SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY;

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ["ms", 1e-3],
  ["msec", 1e-3],
  ["millisecond", 1e-3],
  ["milliseconds", 1e-3],
  ["s", 1],
  ["sec", 1],
  ["secs", 1],
  ["second", 1],
  ["seconds", 1],
  ["min", 60],
  ["mins", 60],
  ["minute", 60],
  ["minutes", 60],
  ["h", 3600],
  ["hr", 3600],
  ["hrs", 3600],
  ["hour", 3600],
  ["hours", 3600],
  ["d", SECONDS_PER_DAY],
  ["day", SECONDS_PER_DAY],
  ["days", SECONDS_PER_DAY],
  ["w", 7 * SECONDS_PER_DAY],
  ["wk", 7 * SECONDS_PER_DAY],
  ["week", 7 * SECONDS_PER_DAY],
  ["weeks", 7 * SECONDS_PER_DAY],
  ["y", SECONDS_PER_YEAR],
  ["yr", SECONDS_PER_YEAR],
  ["yrs", SECONDS_PER_YEAR],
  ["year", SECONDS_PER_YEAR],
  ["years", SECONDS_PER_YEAR],
]);

/** Output units, smallest first, with singular and plural spellings. */
const DURATION_SCALES = [
  { factor: 1e-3, singular: "ms", plural: "ms" },
  { factor: 1, singular: "s", plural: "s" },
  { factor: 60, singular: "min", plural: "min" },
  { factor: 3600, singular: "hour", plural: "hours" },
  { factor: SECONDS_PER_DAY, singular: "day", plural: "days" },
  { factor: SECONDS_PER_YEAR, singular: "year", plural: "years" },
] as const;

/** Returns seconds. */
export function parseDuration(raw: unknown, field: string): number {
  const { value, unit } = splitNumberAndUnit(raw, field);
  if (unit === "") {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `"${String(raw)}" has no unit; write e.g. "${String(raw)} years" or "${String(raw)} days"`,
    );
  }
  const lower = unit.toLowerCase();
  if (lower === "mo" || lower === "month" || lower === "months") {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `months vary in length; write "${String(value * 30)} days" or a number of years`,
    );
  }
  const secondsPerUnit = DURATION_UNITS.get(lower);
  if (secondsPerUnit === undefined) {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `unknown duration unit "${unit}" in "${String(raw)}" (use ms, s, min, hours, days, weeks, years)`,
    );
  }
  return value * secondsPerUnit;
}

/** 157,680,000 s → "5 years", 0.864 → "864 ms". Parses back with parseDuration. */
export function formatDuration(seconds: number, digits: number): string {
  let chosen: (typeof DURATION_SCALES)[number] = DURATION_SCALES[0];
  for (const scale of DURATION_SCALES) {
    if (roundSignificant(seconds / scale.factor, digits) >= 1) chosen = scale;
  }
  const mantissa = formatSignificant(seconds / chosen.factor, digits);
  return `${mantissa} ${mantissa === "1" ? chosen.singular : chosen.plural}`;
}
