/**
 * The chapter's reference tables as data: powers of two, latency numbers and
 * availability nines. Each row keeps its exact numbers next to the rendered
 * text so `--json` consumers need not parse "8.77 hours".
 */
import {
  DAYS_PER_MONTH_AVAILABILITY,
  DAYS_PER_YEAR_AVAILABILITY,
  HUMAN_SIGNIFICANT_DIGITS,
  SECONDS_PER_DAY,
} from "./constants.js";
import { formatDuration } from "./duration.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { formatPercent } from "./fraction.js";
import { formatGrouped, formatScaled, formatSignificant } from "./number-text.js";

export type TableCell = string | number;

export interface ReferenceTable {
  readonly name: TableName;
  readonly title: string;
  /** Where the figures come from, and when. */
  readonly source: string;
  readonly columns: readonly { readonly key: string; readonly heading: string }[];
  readonly rows: readonly Readonly<Record<string, TableCell>>[];
  readonly notes: readonly string[];
}

export const TABLE_NAMES = ["powers", "latency", "nines"] as const;
export type TableName = (typeof TABLE_NAMES)[number];

export function referenceTable(name: string): ReferenceTable {
  switch (name) {
    case "powers":
      return powersOfTwoTable();
    case "latency":
      return latencyTable();
    case "nines":
      return availabilityTable();
    default:
      throw new EstimateError(
        EstimateErrorCode.UNKNOWN_TABLE,
        "table",
        `no table named "${name}" (known: ${TABLE_NAMES.join(", ")})`,
      );
  }
}

/** The chapter's rows (10..50) plus the ones that come up in ID and hash sizing. */
const POWERS = [8, 10, 16, 20, 30, 32, 40, 50, 60, 64] as const;
const POWER_WORDS = [
  { factor: 1, unit: "" },
  { factor: 1e3, unit: " thousand" },
  { factor: 1e6, unit: " million" },
  { factor: 1e9, unit: " billion" },
  { factor: 1e12, unit: " trillion" },
  { factor: 1e15, unit: " quadrillion" },
  { factor: 1e18, unit: " quintillion" },
];
const BINARY_UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;
const DECIMAL_UNITS = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"] as const;

export function powersOfTwoTable(): ReferenceTable {
  const rows = POWERS.map((power) => {
    const exact = 2n ** BigInt(power);
    const approx = formatScaled(Number(exact), POWER_WORDS, 2);
    const unitIndex = Math.min(Math.floor(power / 10), BINARY_UNITS.length - 1);
    const sizeMantissa = 2 ** (power - unitIndex * 10);
    return {
      power: `2^${power}`,
      exact: groupBigInt(exact),
      approximate: `${approx.mantissa}${approx.unit}`,
      bytes: `${formatGrouped(sizeMantissa)} ${BINARY_UNITS[unitIndex]}`,
      chapterName:
        power % 10 === 0 && power <= 50 && unitIndex > 0 ? `1 ${DECIMAL_UNITS[unitIndex]}` : "",
      // How much larger the binary unit is than the decimal one of the same name.
      binaryOverDecimalPercent: Number(formatSignificant((1.024 ** unitIndex - 1) * 100, 3)),
    };
  });
  return {
    name: "powers",
    title: "Powers of two",
    source: "System Design Interview, chapter 2 (rows 2^10..2^50), computed exactly",
    columns: [
      { key: "power", heading: "power" },
      { key: "exact", heading: "exact value" },
      { key: "approximate", heading: "approximately" },
      { key: "bytes", heading: "as bytes" },
      { key: "chapterName", heading: "chapter calls it" },
      { key: "binaryOverDecimalPercent", heading: "binary over decimal %" },
    ],
    rows,
    notes: [
      "The chapter equates 2^10 bytes with 1 KB. This package uses KB = 1,000 bytes (as the chapter's own worked example does) and KiB = 1,024 bytes; the last column is how much larger the binary unit is (2.4% at KiB, 12.6% at PiB).",
    ],
  };
}

function groupBigInt(value: bigint): string {
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

interface LatencyRow {
  readonly operation: string;
  readonly latencyNs: number;
}

/**
 * The figures of the chapter's Figure 2-1, Jeff Dean's "Numbers Everyone Should
 * Know" (Google, 2009-2010). They are dated on purpose: the chapter uses them to
 * teach ratios (memory vs disk vs network), not to size today's hardware.
 */
const LATENCY_ROWS: readonly LatencyRow[] = [
  { operation: "L1 cache reference", latencyNs: 0.5 },
  { operation: "Branch mispredict", latencyNs: 5 },
  { operation: "L2 cache reference", latencyNs: 7 },
  { operation: "Mutex lock/unlock", latencyNs: 100 },
  { operation: "Main memory reference", latencyNs: 100 },
  { operation: "Compress 1K bytes with Zippy", latencyNs: 10_000 },
  { operation: "Send 2K bytes over 1 Gbps network", latencyNs: 20_000 },
  { operation: "Read 1 MB sequentially from memory", latencyNs: 250_000 },
  { operation: "Round trip within the same datacenter", latencyNs: 500_000 },
  { operation: "Disk seek", latencyNs: 10_000_000 },
  { operation: "Read 1 MB sequentially from the network", latencyNs: 10_000_000 },
  { operation: "Read 1 MB sequentially from disk", latencyNs: 30_000_000 },
  { operation: "Send packet CA -> Netherlands -> CA", latencyNs: 150_000_000 },
];

const LATENCY_SCALES = [
  { factor: 1, unit: "ns" },
  { factor: 1e3, unit: "µs" },
  { factor: 1e6, unit: "ms" },
  { factor: 1e9, unit: "s" },
];

export function formatLatency(latencyNs: number): string {
  const { mantissa, unit } = formatScaled(latencyNs, LATENCY_SCALES, HUMAN_SIGNIFICANT_DIGITS);
  return `${mantissa} ${unit}`;
}

export function latencyTable(): ReferenceTable {
  return {
    name: "latency",
    title: "Latency numbers every programmer should know (2010 figures)",
    source:
      'Jeff Dean (Google), "Numbers Everyone Should Know", 2009-2010 talks; reproduced as Figure 2-1 of System Design Interview, chapter 2, which dates them 2010',
    columns: [
      { key: "operation", heading: "operation" },
      { key: "latencyNs", heading: "ns" },
      { key: "latency", heading: "latency" },
    ],
    rows: LATENCY_ROWS.map((row) => ({
      operation: row.operation,
      latencyNs: row.latencyNs,
      latency: formatLatency(row.latencyNs),
    })),
    notes: [
      "These are 2010 figures. Later revisions of the list (e.g. Jonas Bonér's gist, ~2012) give a 25 ns mutex and 3 µs for Zippy and add SSD rows; current hardware is faster at most rows, while the speed of light (the last row) has not moved.",
      "What the chapter draws from them: memory is fast and disk is slow; avoid disk seeks; simple compression is fast, so compress before sending over the internet; crossing regions costs a lot.",
    ],
  };
}

/** Unavailability as an exact power of ten (or half of one), so 1 - 0.999 float noise never shows. */
const NINES = [
  { label: 1, unavailable: 1e-1 },
  { label: 2, unavailable: 1e-2 },
  { label: 3, unavailable: 1e-3 },
  { label: 3.5, unavailable: 5e-4 },
  { label: 4, unavailable: 1e-4 },
  { label: 5, unavailable: 1e-5 },
  { label: 6, unavailable: 1e-6 },
] as const;

/** Availability as a fraction → downtime in seconds per day, 30-day month and 365.25-day year. */
export function downtimeSeconds(unavailableFraction: number): {
  perDay: number;
  perMonth: number;
  perYear: number;
} {
  return {
    perDay: unavailableFraction * SECONDS_PER_DAY,
    perMonth: unavailableFraction * SECONDS_PER_DAY * DAYS_PER_MONTH_AVAILABILITY,
    perYear: unavailableFraction * SECONDS_PER_DAY * DAYS_PER_YEAR_AVAILABILITY,
  };
}

export function availabilityTable(): ReferenceTable {
  return {
    name: "nines",
    title: "Availability and downtime",
    source:
      "System Design Interview, chapter 2 (rows 99% to 99.9999%), computed exactly with a 30-day month and a 365.25-day year",
    columns: [
      { key: "availability", heading: "availability" },
      { key: "nines", heading: "nines" },
      { key: "perDay", heading: "downtime per day" },
      { key: "perMonth", heading: "per 30-day month" },
      { key: "perYear", heading: "per year" },
    ],
    rows: NINES.map(({ label, unavailable }) => {
      const downtime = downtimeSeconds(unavailable);
      return {
        availability: formatPercent(1 - unavailable),
        nines: label,
        perDay: formatDuration(downtime.perDay, HUMAN_SIGNIFICANT_DIGITS),
        perMonth: formatDuration(downtime.perMonth, HUMAN_SIGNIFICANT_DIGITS),
        perYear: formatDuration(downtime.perYear, HUMAN_SIGNIFICANT_DIGITS),
        perDaySeconds: downtime.perDay,
        perMonthSeconds: downtime.perMonth,
        perYearSeconds: downtime.perYear,
      };
    }),
    notes: [
      "A year here is 365.25 days because the chapter's table uses it (8.77 hours a year at 99.9%; 365 days would give 8.76).",
      "The chapter's table prints 31.65 s a year at 99.9999%; the exact figure is 31.56 s (shown rounded as 31.6 s): two digits are swapped.",
    ],
  };
}
