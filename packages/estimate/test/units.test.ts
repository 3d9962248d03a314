import {
  EstimateErrorCode,
  formatCount,
  formatDuration,
  formatPercent,
  formatSignificant,
  formatSize,
  parseCount,
  parseDuration,
  parseFraction,
  parseRatio,
  parseSize,
  parseWholeCount,
} from "@scaleout/estimate";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { refused } from "./helpers/refused.js";

/** Relative closeness for round trips through a rendering of `digits` significant digits. */
function closeTo(actual: number, expected: number, digits: number): boolean {
  if (expected === 0) return actual === 0;
  // Half a unit in the last kept digit, plus float slack.
  return Math.abs(actual - expected) / Math.abs(expected) <= 0.5 * 10 ** (1 - digits) + 1e-12;
}

describe("counts", () => {
  it.each([
    ["300m", 300e6],
    ["300M", 300e6],
    ["1.2k", 1200],
    ["2 billion", 2e9],
    ["2bn", 2e9],
    ["3 trillion", 3e12],
    ["300_000_000", 300e6],
    ["300,000,000", 300e6],
    ["1e6", 1e6],
    [".5k", 500],
    [42, 42],
    ["0", 0],
  ])("parses %s", (text, expected) => {
    expect(parseCount(text, "f")).toBeCloseTo(expected, 6);
  });

  it("refuses unknown suffixes, negatives and non-numbers, naming the field", () => {
    const unknown = refused(() => parseCount("3 parsecs", "monthly_active_users"));
    expect(unknown.code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(unknown.field).toBe("monthly_active_users");
    expect(unknown.message).toMatch(/^monthly_active_users: unknown count suffix "parsecs"/);
    expect(refused(() => parseCount("-5", "f")).code).toBe(EstimateErrorCode.NEGATIVE);
    expect(refused(() => parseCount(-5, "f")).code).toBe(EstimateErrorCode.NEGATIVE);
    expect(refused(() => parseCount("lots", "f")).code).toBe(EstimateErrorCode.NOT_A_NUMBER);
    expect(refused(() => parseCount(Number.NaN, "f")).code).toBe(EstimateErrorCode.NOT_A_NUMBER);
    expect(refused(() => parseCount([1], "f")).code).toBe(EstimateErrorCode.WRONG_TYPE);
    expect(refused(() => parseCount("1,5", "f")).code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(refused(() => parseWholeCount("2.5", "replication_factor")).code).toBe(
      EstimateErrorCode.OUT_OF_RANGE,
    );
  });

  it.each([
    [0, "0"],
    [64, "64"],
    [3472.2222, "3.47k"],
    [150e6, "150M"],
    [999.96, "1k"],
    [2.5e9, "2.5bn"],
    [1.2e13, "12tn"],
  ])("formats %d as %s", (value, text) => {
    expect(formatCount(value, 3)).toBe(text);
  });

  it("round-trips through format then parse within the rendering's precision", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e15, noNaN: true }),
        fc.integer({ min: 1, max: 15 }),
        (value, digits) => closeTo(parseCount(formatCount(value, digits), "f"), value, digits),
      ),
      { numRuns: 500 },
    );
  });
});

describe("sizes", () => {
  it.each([
    ["140 bytes", 140],
    ["64 B", 64],
    ["1 byte", 1],
    ["1 KB", 1e3],
    ["1 kB", 1e3],
    ["1 MB", 1e6],
    ["1MB", 1e6],
    ["30 TB", 30e12],
    ["55 PB", 55e15],
    ["1 EB", 1e18],
    ["1 KiB", 1024],
    ["1.5 GiB", 1.5 * 2 ** 30],
    ["2 TiB", 2 * 2 ** 40],
    ["3 megabytes", 3e6],
  ])("parses %s", (text, expected) => {
    expect(parseSize(text, "f")).toBeCloseTo(expected, 3);
  });

  it("refuses a missing unit, bits and unknown units, naming the field", () => {
    const bare = refused(() => parseSize(140, "objects.text.size"));
    expect(bare.code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(bare.message).toMatch(/^objects\.text\.size: "140" has no unit/);
    expect(refused(() => parseSize("1 Mb", "f")).message).toMatch(/reads as bits; write MB/);
    expect(refused(() => parseSize("1 b", "f")).message).toMatch(/reads as bits/);
    expect(refused(() => parseSize("1 XB", "f")).code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(refused(() => parseSize("1 parsec", "f")).code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(refused(() => parseSize("-1 MB", "f")).code).toBe(EstimateErrorCode.NEGATIVE);
  });

  it.each([
    [140, "decimal", "140 B"],
    [30e12, "decimal", "30 TB"],
    [54.75e15, "decimal", "54.8 PB"],
    [37.8e9, "binary", "35.2 GiB"],
    [1024, "binary", "1 KiB"],
    [999_999, "decimal", "1 MB"],
  ] as const)("formats %d (%s) as %s", (value, units, text) => {
    expect(formatSize(value, 3, units)).toBe(text);
  });

  it("round-trips decimal and binary renderings", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e21, noNaN: true }),
        fc.integer({ min: 1, max: 15 }),
        fc.constantFrom("decimal" as const, "binary" as const),
        (value, digits, units) =>
          closeTo(parseSize(formatSize(value, digits, units), "f"), value, digits),
      ),
      { numRuns: 500 },
    );
  });
});

describe("durations", () => {
  it.each([
    ["5 years", 5 * 365 * 86_400],
    ["1 year", 365 * 86_400],
    ["5y", 5 * 365 * 86_400],
    ["24 hours", 86_400],
    ["1 day", 86_400],
    ["2 weeks", 14 * 86_400],
    ["90 min", 5400],
    ["30 s", 30],
    ["500 ms", 0.5],
  ])("parses %s", (text, seconds) => {
    expect(parseDuration(text, "f")).toBeCloseTo(seconds, 9);
  });

  it("refuses months, bare numbers and unknown units, naming the field", () => {
    expect(refused(() => parseDuration("6 months", "retention")).message).toMatch(
      /^retention: months vary in length; write "180 days"/,
    );
    expect(refused(() => parseDuration(5, "retention")).message).toMatch(/has no unit/);
    expect(refused(() => parseDuration("5 eons", "retention")).code).toBe(
      EstimateErrorCode.BAD_UNIT,
    );
  });

  it.each([
    [0.864, "864 ms"],
    [8.64, "8.64 s"],
    [864, "14.4 min"],
    [86_400, "1 day"],
    [5 * 365 * 86_400, "5 years"],
    [0.001 * 365.25 * 86_400, "8.77 hours"],
  ])("formats %d s as %s", (seconds, text) => {
    expect(formatDuration(seconds, 3)).toBe(text);
  });

  it("round-trips through format then parse", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.integer({ min: 1, max: 15 }),
        (seconds, digits) =>
          closeTo(parseDuration(formatDuration(seconds, digits), "f"), seconds, digits),
      ),
      { numRuns: 500 },
    );
  });
});

describe("fractions and ratios", () => {
  it.each([
    ["50%", 0.5],
    ["50 %", 0.5],
    ["0.5", 0.5],
    [0.1, 0.1],
    ["1/10", 0.1],
    ["100%", 1],
    ["0%", 0],
  ])("parses fraction %s", (text, expected) => {
    expect(parseFraction(text, "f")).toBeCloseTo(expected, 12);
  });

  it("refuses fractions above 1, negatives and odd units, naming the field", () => {
    const over = refused(() => parseFraction("150%", "daily_active_fraction"));
    expect(over.code).toBe(EstimateErrorCode.OUT_OF_RANGE);
    expect(over.message).toBe(
      "daily_active_fraction: 150% is more than 100%; a fraction must be between 0 and 1",
    );
    expect(refused(() => parseFraction(1.5, "f")).code).toBe(EstimateErrorCode.OUT_OF_RANGE);
    expect(refused(() => parseFraction("-10%", "f")).code).toBe(EstimateErrorCode.NEGATIVE);
    expect(refused(() => parseFraction("10 pct", "f")).code).toBe(EstimateErrorCode.BAD_UNIT);
    expect(refused(() => parseFraction("1/0", "f")).code).toBe(EstimateErrorCode.NOT_A_NUMBER);
  });

  it("round-trips percentages (six significant digits, enough for 99.9999%)", () => {
    expect(formatPercent(0.999999)).toBe("99.9999%");
    expect(formatPercent(0.5)).toBe("50%");
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (fraction) =>
        closeTo(parseFraction(formatPercent(fraction), "f"), fraction, 6),
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ["100:1", 100],
    ["1:4", 0.25],
    ["2x", 2],
    ["2×", 2],
    [3, 3],
    ["10", 10],
  ])("parses ratio %s", (text, expected) => {
    expect(parseRatio(text, "f", 0)).toBeCloseTo(expected, 12);
  });

  it("refuses ratios below the field's minimum", () => {
    const low = refused(() => parseRatio("0.5", "peak_factor", 1));
    expect(low.code).toBe(EstimateErrorCode.OUT_OF_RANGE);
    expect(low.message).toBe("peak_factor: 0.5 is below 1");
    expect(refused(() => parseRatio("100:0", "f", 0)).code).toBe(EstimateErrorCode.NOT_A_NUMBER);
    expect(refused(() => parseRatio("3 apples", "f", 0)).code).toBe(EstimateErrorCode.BAD_UNIT);
  });
});

describe("significant digits", () => {
  it("never uses exponent notation and drops trailing zeros", () => {
    expect(formatSignificant(150, 2)).toBe("150");
    expect(formatSignificant(3.4722, 3)).toBe("3.47");
    expect(formatSignificant(0.000123456, 3)).toBe("0.000123");
    expect(formatSignificant(9.996, 3)).toBe("10");
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e20, noNaN: true }), (value) =>
        /^\d+(\.\d+)?$/.test(formatSignificant(value, 3)),
      ),
      { numRuns: 300 },
    );
  });
});
