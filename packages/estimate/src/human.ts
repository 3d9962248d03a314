/**
 * Human renderings of estimate values: each line's unit decides how its base
 * value (users, requests, bytes, seconds) is shown.
 */
import { HUMAN_SIGNIFICANT_DIGITS } from "./constants.js";
import { formatCount } from "./count.js";
import { formatDuration } from "./duration.js";
import { formatPercent } from "./fraction.js";
import { formatGrouped, formatSignificant } from "./number-text.js";
import { formatBitRate, formatSize, type SizeUnits } from "./size.js";

export type LineUnit =
  | "users"
  | "requests/day"
  | "requests/s"
  | "bytes"
  | "bytes/day"
  | "bytes/year"
  | "bytes/s"
  | "servers";

export interface HumanOptions {
  /** Decimal (KB = 1,000 bytes, the default) or binary (KiB = 1,024 bytes). */
  readonly sizeUnits: SizeUnits;
  readonly significantDigits: number;
}

export const DEFAULT_HUMAN_OPTIONS: HumanOptions = {
  sizeUnits: "decimal",
  significantDigits: HUMAN_SIGNIFICANT_DIGITS,
};

/** Formatting helpers bound to one set of options, for building formula text. */
export class Human {
  readonly options: HumanOptions;

  constructor(options: HumanOptions = DEFAULT_HUMAN_OPTIONS) {
    this.options = options;
  }

  count(value: number): string {
    return formatCount(value, this.options.significantDigits);
  }

  size(sizeBytes: number): string {
    return formatSize(sizeBytes, this.options.significantDigits, this.options.sizeUnits);
  }

  duration(seconds: number): string {
    return formatDuration(seconds, this.options.significantDigits);
  }

  percent(fraction: number): string {
    return formatPercent(fraction);
  }

  /** A plain multiplier such as a peak factor or read:write ratio: "2", "100". */
  number(value: number): string {
    return formatSignificant(value, this.options.significantDigits);
  }

  /** Exact integers in formulas (86,400 s, 365 days) keep all their digits. */
  integer(value: number): string {
    return formatGrouped(value);
  }

  value(value: number, unit: LineUnit): string {
    switch (unit) {
      case "users":
        return `${this.count(value)} users`;
      case "requests/day":
        return `${this.count(value)}/day`;
      case "requests/s":
        return `${this.count(value)}/s`;
      case "bytes":
        return this.size(value);
      case "bytes/day":
        return `${this.size(value)}/day`;
      case "bytes/year":
        return `${this.size(value)}/year`;
      case "bytes/s":
        return `${this.size(value)}/s (${formatBitRate(value, this.options.significantDigits)})`;
      case "servers":
        return `${this.integer(value)} ${value === 1 ? "server" : "servers"}`;
    }
  }
}
