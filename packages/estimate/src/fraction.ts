/**
 * Fractions and ratios. A fraction is a share of a whole: "50%", "0.5", "1/10",
 * never above 1. A ratio is "how many of one per one of the other": a
 * read:write ratio "100:1" (or "100"), a peak factor "2x" (or "2").
 */
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { formatSignificant, splitNumberAndUnit } from "./number-text.js";

/** Percentages print with up to this many significant digits so 99.9999% survives. */
const PERCENT_SIGNIFICANT_DIGITS = 6;

export function parseFraction(raw: unknown, field: string): number {
  const { value, unit } = splitNumberAndUnit(raw, field);
  let fraction: number;
  if (unit === "%") {
    fraction = value / 100;
  } else if (unit === "") {
    fraction = value;
  } else if (unit.startsWith("/")) {
    const denominator = splitNumberAndUnit(unit.slice(1), field);
    if (denominator.unit !== "" || denominator.value === 0) {
      throw new EstimateError(
        EstimateErrorCode.NOT_A_NUMBER,
        field,
        `"${String(raw)}" is not a fraction like 1/10`,
      );
    }
    fraction = value / denominator.value;
  } else {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `unknown unit "${unit}" in "${String(raw)}"; a fraction is written 50%, 0.5 or 1/2`,
    );
  }
  if (fraction > 1) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      field,
      `${String(raw)} is more than 100%; a fraction must be between 0 and 1`,
    );
  }
  return fraction;
}

/** 0.5 → "50%", 0.999999 → "99.9999%". Parses back with parseFraction. */
export function formatPercent(fraction: number): string {
  return `${formatSignificant(fraction * 100, PERCENT_SIGNIFICANT_DIGITS)}%`;
}

/**
 * "100:1" → 100, "1:4" → 0.25, "2x" → 2, "2" → 2. The bound is inclusive and
 * named in the error ("peak_factor: 0.5 is below 1").
 */
export function parseRatio(raw: unknown, field: string, minimum: number): number {
  const { value, unit } = splitNumberAndUnit(raw, field);
  let ratio: number;
  if (unit === "" || unit === "x" || unit === "×") {
    ratio = value;
  } else if (unit.startsWith(":")) {
    const right = splitNumberAndUnit(unit.slice(1), field);
    if (right.unit !== "" || right.value === 0) {
      throw new EstimateError(
        EstimateErrorCode.NOT_A_NUMBER,
        field,
        `"${String(raw)}" is not a ratio like 100:1`,
      );
    }
    ratio = value / right.value;
  } else {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `unknown unit "${unit}" in "${String(raw)}"; a ratio is written 100:1, 2x or 2`,
    );
  }
  if (ratio < minimum) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      field,
      `${String(raw)} is below ${minimum}`,
    );
  }
  return ratio;
}
