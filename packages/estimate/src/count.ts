/**
 * Counts: users, actions, requests. "300m", "1.2k", "2 billion", "300_000_000".
 * Suffixes are the short scale (billion = 10^9) and case-insensitive: the chapter
 * writes "300m" for 300 million, and counts never mean milli-anything.
 */
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { formatScaled, splitNumberAndUnit } from "./number-text.js";

const COUNT_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ["", 1],
  ["k", 1e3],
  ["thousand", 1e3],
  ["m", 1e6],
  ["mn", 1e6],
  ["million", 1e6],
  ["b", 1e9],
  ["bn", 1e9],
  ["billion", 1e9],
  ["t", 1e12],
  ["tn", 1e12],
  ["trillion", 1e12],
]);

/** Output scales; "bn"/"tn" rather than "B"/"T" so a count never reads as bytes. */
const COUNT_SCALES = [
  { factor: 1, unit: "" },
  { factor: 1e3, unit: "k" },
  { factor: 1e6, unit: "M" },
  { factor: 1e9, unit: "bn" },
  { factor: 1e12, unit: "tn" },
] as const;

export function parseCount(raw: unknown, field: string): number {
  const { value, unit } = splitNumberAndUnit(raw, field);
  const factor = COUNT_SUFFIXES.get(unit.toLowerCase());
  if (factor === undefined) {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `unknown count suffix "${unit}" in "${String(raw)}" (use k, m, bn, t or thousand, million, billion, trillion)`,
    );
  }
  return value * factor;
}

/** A count that must also be a whole number (servers, replicas). */
export function parseWholeCount(raw: unknown, field: string): number {
  const value = parseCount(raw, field);
  if (!Number.isInteger(value)) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      field,
      `${String(raw)} is not a whole number`,
    );
  }
  return value;
}

/** 150e6 → "150M", 3472.2 → "3.47k", 64 → "64". Parses back with parseCount. */
export function formatCount(value: number, digits: number): string {
  const { mantissa, unit } = formatScaled(value, COUNT_SCALES, digits);
  return `${mantissa}${unit}`;
}
