/**
 * Data sizes. Decimal (SI) prefixes are powers of ten: 1 KB = 1,000 bytes,
 * 1 MB = 10^6 bytes, as in the chapter's worked example (1 MB × 30 million =
 * 30 TB). Binary prefixes are explicit: 1 KiB = 1,024 bytes, 1 GiB = 2^30 bytes.
 * A bare number is refused: the chapter's advice is "label your units".
 */
import { BITS_PER_BYTE } from "./constants.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { formatScaled, splitNumberAndUnit } from "./number-text.js";

/** The prefix letters in order; index i is 1000^(i+1) or 1024^(i+1). */
const PREFIX_LETTERS = ["k", "m", "g", "t", "p", "e"] as const;

const SIZE_WORDS: ReadonlyMap<string, number> = new Map([
  ["byte", 1],
  ["bytes", 1],
  ["kilobyte", 1e3],
  ["kilobytes", 1e3],
  ["megabyte", 1e6],
  ["megabytes", 1e6],
  ["gigabyte", 1e9],
  ["gigabytes", 1e9],
  ["terabyte", 1e12],
  ["terabytes", 1e12],
  ["petabyte", 1e15],
  ["petabytes", 1e15],
  ["exabyte", 1e18],
  ["exabytes", 1e18],
]);

export type SizeUnits = "decimal" | "binary";

const DECIMAL_SCALES = ["B", "KB", "MB", "GB", "TB", "PB", "EB"].map((unit, index) => ({
  factor: 1000 ** index,
  unit,
}));
const BINARY_SCALES = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].map((unit, index) => ({
  factor: 1024 ** index,
  unit,
}));
const BIT_RATE_SCALES = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s"].map(
  (unit, index) => ({ factor: 1000 ** index, unit }),
);

/** Bytes in one `unit`, or an error naming the field. */
function bytesPerUnit(unit: string, raw: unknown, field: string): number {
  if (unit === "") {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `"${String(raw)}" has no unit; write e.g. "${String(raw)} bytes" or "${String(raw)} KB"`,
    );
  }
  if (unit === "B") return 1;
  const word = SIZE_WORDS.get(unit.toLowerCase());
  if (word !== undefined) return word;
  const binary = /^([a-zA-Z])iB$/.exec(unit);
  const decimal = /^([a-zA-Z])B$/.exec(unit);
  const prefix = (binary ?? decimal)?.[1]?.toLowerCase();
  const power = PREFIX_LETTERS.indexOf(prefix as (typeof PREFIX_LETTERS)[number]) + 1;
  if (prefix !== undefined && power > 0) return (binary === null ? 1000 : 1024) ** power;
  if (/^([a-zA-Z]i?)?b$/.test(unit)) {
    throw new EstimateError(
      EstimateErrorCode.BAD_UNIT,
      field,
      `"${unit}" in "${String(raw)}" reads as bits; write ${unit.slice(0, -1).toUpperCase()}B for bytes`,
    );
  }
  throw new EstimateError(
    EstimateErrorCode.BAD_UNIT,
    field,
    `unknown size unit "${unit}" in "${String(raw)}" (use bytes, B, KB, MB, GB, TB, PB or KiB, MiB, GiB, TiB, PiB)`,
  );
}

export function parseSize(raw: unknown, field: string): number {
  const { value, unit } = splitNumberAndUnit(raw, field);
  return value * bytesPerUnit(unit, raw, field);
}

/** 3e13 → "30 TB" (decimal) or "27.3 TiB" (binary). Parses back with parseSize. */
export function formatSize(
  sizeBytes: number,
  digits: number,
  units: SizeUnits = "decimal",
): string {
  const scales = units === "binary" ? BINARY_SCALES : DECIMAL_SCALES;
  const { mantissa, unit } = formatScaled(sizeBytes, scales, digits);
  return `${mantissa} ${unit}`;
}

/** Network rates are quoted in bits: 347 MB/s → "2.78 Gbit/s" (always decimal). */
export function formatBitRate(bytesPerSecond: number, digits: number): string {
  const { mantissa, unit } = formatScaled(bytesPerSecond * BITS_PER_BYTE, BIT_RATE_SCALES, digits);
  return `${mantissa} ${unit}`;
}
