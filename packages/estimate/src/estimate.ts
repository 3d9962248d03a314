/**
 * From validated assumptions to an estimate: the chapter's method of writing
 * the assumptions down, deriving each figure from the ones before, and
 * labelling every unit. Lines appear only when their inputs were given.
 */
import type { Assumptions } from "./assumptions.js";
import { DAYS_PER_YEAR, SECONDS_PER_DAY } from "./constants.js";
import {
  averageQps,
  cacheMemory,
  dailyActiveUsers,
  type EstimateLine,
  egressBandwidth,
  givenDailyActiveUsers,
  ingressBandwidth,
  objectStoragePerDay,
  peakBandwidth,
  peakQps,
  readQps,
  replicatedStorage,
  serversNeeded,
  storageOverRetention,
  storagePerYear,
  sumOf,
  writesPerDay,
} from "./formulas.js";
import { DEFAULT_HUMAN_OPTIONS, Human, type HumanOptions } from "./human.js";
import { formatSignificant } from "./number-text.js";

/** A figure quoted by a reference (the book) to compare with the exact result. */
export interface ReferenceFigure {
  /** The estimate line it corresponds to. */
  readonly key: string;
  /** The figure as the reference prints it: "~3500", "∼30 TB per day". */
  readonly quoted: string;
  /** The quoted figure in the line's base unit (requests/s, bytes, ...). */
  readonly value: number;
  /** Why the exact result differs, in a sentence. */
  readonly explanation: string;
}

export interface Reference {
  readonly source: string;
  readonly figures: readonly ReferenceFigure[];
}

export interface Comparison {
  readonly key: string;
  readonly source: string;
  readonly quoted: string;
  readonly quotedValue: number;
  readonly exactValue: number;
  readonly exactHuman: string;
  /** (quoted − exact) / exact × 100. */
  readonly differencePercent: number;
  readonly explanation: string;
}

export interface AssumptionLine {
  readonly field: string;
  /**
   * The value in base units (users, bytes, seconds, fractions 0..1, plain
   * ratios); an object kind's is its size in bytes.
   */
  readonly value: number;
  readonly human: string;
  /** True when the field was not given and took its documented default. */
  readonly defaulted: boolean;
}

export interface Estimate {
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly assumptions: readonly AssumptionLine[];
  readonly lines: readonly EstimateLine[];
  readonly comparisons: readonly Comparison[];
  readonly notes: readonly string[];
}

export interface EstimateOptions {
  readonly human?: HumanOptions;
  readonly reference?: Reference;
}

export function estimate(assumptions: Assumptions, options: EstimateOptions = {}): Estimate {
  const human = new Human(options.human ?? DEFAULT_HUMAN_OPTIONS);
  const lines = estimateLines(assumptions, human);
  const comparisons = options.reference === undefined ? [] : compare(lines, options.reference);
  return {
    name: assumptions.name,
    description: assumptions.description,
    assumptions: describeAssumptions(assumptions, human),
    lines,
    comparisons,
    notes: [...standardNotes(human), ...assumptions.notes],
  };
}

export function estimateLines(assumptions: Assumptions, human: Human): EstimateLine[] {
  const lines: EstimateLine[] = [];
  const add = (added: EstimateLine): EstimateLine => {
    lines.push(added);
    return added;
  };
  const plural = pluralize(assumptions.action);

  const dau = add(
    assumptions.dailyActiveUsers !== undefined
      ? givenDailyActiveUsers(human, assumptions.dailyActiveUsers)
      : dailyActiveUsers(
          human,
          assumptions.monthlyActiveUsers ?? 0,
          assumptions.dailyActiveFraction ?? 0,
        ),
  );
  const writes = add(writesPerDay(human, dau.value, assumptions.actionsPerUserPerDay, plural));
  const writeQps = add(averageQps(human, "write_qps", "Write QPS (average)", writes.value, plural));
  const peakWriteQps = add(
    peakQps(human, "peak_write_qps", "Write QPS (peak)", writeQps.value, assumptions.peakFactor),
  );
  let peakReadQpsValue: number | undefined;
  if (assumptions.readWriteRatio !== undefined) {
    const reads = add(readQps(human, writeQps.value, assumptions.readWriteRatio));
    peakReadQpsValue = add(
      peakQps(human, "peak_read_qps", "Read QPS (peak)", reads.value, assumptions.peakFactor),
    ).value;
  }

  if (assumptions.objects.length > 0) {
    const perKind = assumptions.objects.map((kind) =>
      add(
        objectStoragePerDay(human, kind.name, writes.value, kind.fraction, kind.sizeBytes, plural),
      ),
    );
    const perDay = add(sumOf(human, "storage_per_day", "Storage per day (all kinds)", perKind));
    add(storagePerYear(human, perDay.value));
    const retention = assumptions.retentionSeconds;
    if (retention !== undefined) {
      const span = human.duration(retention);
      for (const kind of perKind) {
        const name = kind.key.slice("storage_per_day.".length);
        add(
          storageOverRetention(
            human,
            `storage_over_retention.${name}`,
            `Storage over ${span}: ${name}`,
            kind.value,
            retention,
          ),
        );
      }
      const total = add(
        storageOverRetention(
          human,
          "storage_over_retention",
          `Storage over ${span} (all kinds)`,
          perDay.value,
          retention,
        ),
      );
      if (assumptions.replicationFactor > 1) {
        add(replicatedStorage(human, total.value, assumptions.replicationFactor));
      }
    }
    const ingress = add(ingressBandwidth(human, perDay.value));
    add(
      peakBandwidth(
        human,
        "peak_ingress",
        "Ingress bandwidth (peak)",
        ingress.value,
        assumptions.peakFactor,
      ),
    );
    if (assumptions.readWriteRatio !== undefined) {
      const egress = add(egressBandwidth(human, ingress.value, assumptions.readWriteRatio));
      add(
        peakBandwidth(
          human,
          "peak_egress",
          "Egress bandwidth (peak)",
          egress.value,
          assumptions.peakFactor,
        ),
      );
    }
    if (assumptions.cacheHotFraction !== undefined) {
      add(
        cacheMemory(
          human,
          perDay.value,
          assumptions.cacheWindowSeconds ?? SECONDS_PER_DAY,
          assumptions.cacheHotFraction,
        ),
      );
    }
  }

  if (assumptions.serverCapacityQps !== undefined) {
    add(serversNeeded(human, peakWriteQps.value, peakReadQpsValue, assumptions.serverCapacityQps));
  }
  return lines;
}

/** tweet → tweets, message → messages, batch → batches. */
export function pluralize(noun: string): string {
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

function describeAssumptions(assumptions: Assumptions, human: Human): AssumptionLine[] {
  const described: AssumptionLine[] = [];
  /** Records a field when it has a value, rendered by `render`. */
  const put = (
    field: string,
    value: number | undefined,
    render: (value: number) => string,
  ): void => {
    if (value === undefined) return;
    described.push({
      field,
      value,
      human: render(value),
      defaulted: assumptions.defaulted.includes(field),
    });
  };
  const plural = pluralize(assumptions.action);
  const users = (value: number): string => `${human.count(value)} users`;
  const duration = (value: number): string => human.duration(value);
  const percent = (value: number): string => human.percent(value);

  put("monthly_active_users", assumptions.monthlyActiveUsers, users);
  put("daily_active_fraction", assumptions.dailyActiveFraction, percent);
  put("daily_active_users", assumptions.dailyActiveUsers, users);
  put(
    "actions_per_user_per_day",
    assumptions.actionsPerUserPerDay,
    (v) => `${human.number(v)} ${plural}`,
  );
  put("peak_factor", assumptions.peakFactor, (v) => `${human.number(v)}× average`);
  for (const kind of assumptions.objects) {
    put(
      `objects.${kind.name}`,
      kind.sizeBytes,
      (v) => `${human.size(v)} on ${human.percent(kind.fraction)} of ${plural}`,
    );
  }
  put("retention", assumptions.retentionSeconds, duration);
  put("read_write_ratio", assumptions.readWriteRatio, (v) => `${human.number(v)}:1`);
  put("cache_hot_fraction", assumptions.cacheHotFraction, percent);
  put("cache_window", assumptions.cacheWindowSeconds, duration);
  put("server_capacity_qps", assumptions.serverCapacityQps, (v) => `${human.count(v)}/s`);
  if (assumptions.objects.length > 0) {
    put("replication_factor", assumptions.replicationFactor, (v) => human.integer(v));
  }
  return described;
}

function standardNotes(human: Human): string[] {
  const units =
    human.options.sizeUnits === "binary"
      ? "Sizes are binary: 1 KiB = 1,024 bytes, 1 MiB = 2^20 bytes, 1 GiB = 2^30 bytes."
      : "Sizes are decimal: 1 KB = 1,000 bytes, 1 MB = 10^6 bytes, 1 TB = 10^12 bytes (--binary shows KiB, MiB, ...).";
  return [
    units,
    `A day is ${human.integer(SECONDS_PER_DAY)} s and a year is ${DAYS_PER_YEAR} days; results keep full precision and are rounded to ${human.options.significantDigits} significant digits only when shown.`,
  ];
}

function compare(lines: readonly EstimateLine[], reference: Reference): Comparison[] {
  return reference.figures.map((figure) => {
    const exact = lines.find((candidate) => candidate.key === figure.key);
    if (exact === undefined) {
      throw new Error(`reference figure for "${figure.key}" has no estimate line`);
    }
    return {
      key: figure.key,
      source: reference.source,
      quoted: figure.quoted,
      quotedValue: figure.value,
      exactValue: exact.value,
      exactHuman: exact.human,
      differencePercent: ((figure.value - exact.value) / exact.value) * 100,
      explanation: figure.explanation,
    };
  });
}

/** "+0.8%" / "-7.4%": the sign says whether the reference rounds up or down. */
export function formatDifference(percent: number): string {
  const shown = formatSignificant(Math.abs(percent), 2);
  if (shown === "0") return "±0%";
  return `${percent > 0 ? "+" : "-"}${shown}%`;
}
