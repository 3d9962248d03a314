/**
 * The numeric part shared by every quantity parser ("1.5" in "1.5 GiB",
 * "300" in "300m") and the significant-digit formatting shared by every
 * renderer. Quantity modules add their units on top.
 */
import { EstimateError, EstimateErrorCode } from "./errors.js";

/**
 * A leading decimal number: optional sign, digits with optional groups of three
 * separated by `,` or `_` (300,000,000 or 300_000_000), optional fraction and
 * exponent. An exponent needs digits, so "1EB" leaves "EB" as the unit.
 */
const LEADING_NUMBER = /^([+-])?((?:\d{1,3}(?:[,_]\d{3})+|\d+)(?:\.\d*)?|\.\d+)([eE][+-]?\d+)?/;

export interface NumberWithUnit {
  readonly value: number;
  /** Whatever follows the number, trimmed ("" when there is no unit). */
  readonly unit: string;
}

/**
 * Accepts a YAML scalar (number or string) and splits it into a finite number
 * and the unit text after it. Negative values are refused here because no
 * quantity in an envelope estimate can be below zero.
 */
export function splitNumberAndUnit(raw: unknown, field: string): NumberWithUnit {
  if (typeof raw === "number") {
    if (!Number.isFinite(raw)) {
      throw new EstimateError(
        EstimateErrorCode.NOT_A_NUMBER,
        field,
        `${raw} is not a finite number`,
      );
    }
    if (raw < 0) throw negative(field, String(raw));
    return { value: raw, unit: "" };
  }
  if (typeof raw !== "string") {
    throw new EstimateError(
      EstimateErrorCode.WRONG_TYPE,
      field,
      `expected a number or a string such as "300m" or "1 MB", got ${describeType(raw)}`,
    );
  }
  const text = raw.trim();
  const match = LEADING_NUMBER.exec(text);
  if (match === null) {
    throw new EstimateError(
      EstimateErrorCode.NOT_A_NUMBER,
      field,
      `"${raw}" does not start with a number`,
    );
  }
  const [whole, sign, digits, exponent] = match;
  const value = Number(`${(digits ?? "").replace(/[,_]/g, "")}${exponent ?? ""}`);
  if (!Number.isFinite(value)) {
    throw new EstimateError(EstimateErrorCode.NOT_A_NUMBER, field, `"${raw}" is too large`);
  }
  if (sign === "-" && value !== 0) throw negative(field, `"${raw}"`);
  return { value, unit: text.slice(whole.length).trim() };
}

function negative(field: string, shown: string): EstimateError {
  return new EstimateError(
    EstimateErrorCode.NEGATIVE,
    field,
    `${shown} is negative; it must be 0 or more`,
  );
}

export function describeType(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  if (typeof raw === "object") return "a mapping";
  return `a ${typeof raw}`;
}

/** Below 10^-6 plain decimals are mostly zeros; such values use exponent form. */
const PLAIN_MAGNITUDE_MIN = -6;

/**
 * `value` rounded to `digits` significant digits, in plain decimal notation
 * (exponent form only below 10^-6), without trailing zeros: 3472.2 → "3470" at 3 digits
 * would hide the magnitude change, so callers pick a unit first and pass the
 * mantissa (3.4722 → "3.47").
 */
export function formatSignificant(value: number, digits: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  if (magnitude < PLAIN_MAGNITUDE_MIN) {
    // Too small for plain notation to stay readable; exponent form still parses back.
    return value
      .toPrecision(digits)
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
  }
  const decimals = Math.max(0, digits - 1 - magnitude);
  const fixed = Math.abs(value).toFixed(decimals);
  const trimmed = fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
  return value < 0 ? `-${trimmed}` : trimmed;
}

/** Rounds to `digits` significant digits, returning a number (for picking a unit). */
export function roundSignificant(value: number, digits: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** An integer with thousands separators: 86400 → "86,400". */
export function formatGrouped(value: number): string {
  const [integer, fraction] = String(Math.abs(value)).split(".");
  const grouped = (integer ?? "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = value < 0 ? "-" : "";
  return fraction === undefined ? `${sign}${grouped}` : `${sign}${grouped}.${fraction}`;
}

/**
 * Picks the largest scale whose unit keeps the rounded mantissa at or above 1,
 * then renders the mantissa with `digits` significant digits. Rounding happens
 * before choosing, so 999.96 becomes "1 k", not "1000".
 */
export function formatScaled(
  value: number,
  scales: readonly { readonly factor: number; readonly unit: string }[],
  digits: number,
): { readonly mantissa: string; readonly unit: string } {
  const first = scales[0];
  if (first === undefined) throw new Error("formatScaled needs at least one scale");
  let chosen = first;
  for (const scale of scales) {
    if (roundSignificant(value / scale.factor, digits) >= 1) chosen = scale;
  }
  return { mantissa: formatSignificant(value / chosen.factor, digits), unit: chosen.unit };
}
