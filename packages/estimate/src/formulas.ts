/**
 * The chapter's formulas, one pure function each. Every function returns a
 * line holding the formula in words, the same formula with the numbers put in,
 * the exact result in base units and its human rendering, so a reader can redo
 * the arithmetic by hand.
 */
import { DAYS_PER_YEAR, SECONDS_PER_DAY } from "./constants.js";
import type { Human, LineUnit } from "./human.js";

export interface EstimateLine {
  /** Stable identifier for machines and tests: "write_qps", "storage_per_day.media". */
  readonly key: string;
  readonly label: string;
  /** The formula in words: "DAU × tweets per user per day". */
  readonly formula: string;
  /** The formula with the numbers put in: "150M × 2". */
  readonly substituted: string;
  /** The unrounded result, in the base unit named by `unit`. */
  readonly value: number;
  readonly unit: LineUnit;
  /** The result for people: "3.47k/s", "30 TB/day". */
  readonly human: string;
}

function line(human: Human, parts: Omit<EstimateLine, "human">): EstimateLine {
  return { ...parts, human: human.value(parts.value, parts.unit) };
}

/** DAU = MAU × daily active fraction. */
export function dailyActiveUsers(
  human: Human,
  monthlyActiveUsers: number,
  dailyActiveFraction: number,
): EstimateLine {
  return line(human, {
    key: "dau",
    label: "Daily active users (DAU)",
    formula: "monthly active users × daily active fraction",
    substituted: `${human.count(monthlyActiveUsers)} × ${human.percent(dailyActiveFraction)}`,
    value: monthlyActiveUsers * dailyActiveFraction,
    unit: "users",
  });
}

/** When DAU is an assumption rather than derived, the line still states it. */
export function givenDailyActiveUsers(human: Human, dailyActiveUsers: number): EstimateLine {
  return line(human, {
    key: "dau",
    label: "Daily active users (DAU)",
    formula: "given",
    substituted: human.count(dailyActiveUsers),
    value: dailyActiveUsers,
    unit: "users",
  });
}

/** Writes per day = DAU × actions per user per day. */
export function writesPerDay(
  human: Human,
  dau: number,
  actionsPerUserPerDay: number,
  actionPlural: string,
): EstimateLine {
  return line(human, {
    key: "writes_per_day",
    label: `${capitalize(actionPlural)} per day`,
    formula: `DAU × ${actionPlural} per user per day`,
    substituted: `${human.count(dau)} × ${human.number(actionsPerUserPerDay)}`,
    value: dau * actionsPerUserPerDay,
    unit: "requests/day",
  });
}

/** Average QPS = requests per day / 86,400 s. */
export function averageQps(
  human: Human,
  key: string,
  label: string,
  requestsPerDay: number,
  requestNounPlural = "requests",
): EstimateLine {
  return line(human, {
    key,
    label,
    formula: `${requestNounPlural} per day / seconds per day`,
    substituted: `${human.count(requestsPerDay)} / ${human.integer(SECONDS_PER_DAY)} s`,
    value: requestsPerDay / SECONDS_PER_DAY,
    unit: "requests/s",
  });
}

/** Peak QPS = average QPS × peak factor (the chapter's "2 × QPS"). */
export function peakQps(
  human: Human,
  key: string,
  label: string,
  qps: number,
  peakFactor: number,
): EstimateLine {
  return line(human, {
    key,
    label,
    formula: "average QPS × peak factor",
    substituted: `${human.count(qps)}/s × ${human.number(peakFactor)}`,
    value: qps * peakFactor,
    unit: "requests/s",
  });
}

/** Read QPS = write QPS × read:write ratio. */
export function readQps(human: Human, writeQps: number, readWriteRatio: number): EstimateLine {
  return line(human, {
    key: "read_qps",
    label: "Read QPS",
    formula: "write QPS × read:write ratio",
    substituted: `${human.count(writeQps)}/s × ${human.number(readWriteRatio)}`,
    value: writeQps * readWriteRatio,
    unit: "requests/s",
  });
}

/** Storage per day for one kind = writes per day × share carrying it × its size. */
export function objectStoragePerDay(
  human: Human,
  kind: string,
  writesPerDayCount: number,
  fraction: number,
  sizeBytes: number,
  actionPlural = "writes",
): EstimateLine {
  return line(human, {
    key: `storage_per_day.${kind}`,
    label: `Storage per day: ${kind}`,
    formula: `${actionPlural} per day × share with ${kind} × ${kind} size`,
    substituted: `${human.count(writesPerDayCount)} × ${human.percent(fraction)} × ${human.size(sizeBytes)}`,
    value: writesPerDayCount * fraction * sizeBytes,
    unit: "bytes/day",
  });
}

/** A sum of lines in the same unit (total storage per day over all kinds). */
export function sumOf(
  human: Human,
  key: string,
  label: string,
  parts: readonly EstimateLine[],
): EstimateLine {
  const unit = parts[0]?.unit ?? "bytes/day";
  if (parts.some((part) => part.unit !== unit)) throw new Error(`sumOf ${key}: mixed units`);
  return line(human, {
    key,
    label,
    formula: parts.map((part) => part.key.slice(part.key.lastIndexOf(".") + 1)).join(" + ") || "0",
    substituted: parts.map((part) => part.human.replace(/\/day$/, "")).join(" + ") || "0",
    value: parts.reduce((total, part) => total + part.value, 0),
    unit,
  });
}

/** Storage per year = storage per day × 365 days. */
export function storagePerYear(human: Human, bytesPerDay: number): EstimateLine {
  return line(human, {
    key: "storage_per_year",
    label: "Storage per year",
    formula: "storage per day × days per year",
    substituted: `${human.size(bytesPerDay)}/day × ${DAYS_PER_YEAR} days`,
    value: bytesPerDay * DAYS_PER_YEAR,
    unit: "bytes/year",
  });
}

/**
 * Storage over the retention period = storage per day × days kept. Whole years
 * are written the chapter's way, "× 365 × 5 years".
 */
export function storageOverRetention(
  human: Human,
  key: string,
  label: string,
  bytesPerDay: number,
  retentionSeconds: number,
): EstimateLine {
  const days = retentionSeconds / SECONDS_PER_DAY;
  const years = days / DAYS_PER_YEAR;
  const span =
    Number.isInteger(years) && years >= 1
      ? `${DAYS_PER_YEAR} days × ${human.integer(years)} ${years === 1 ? "year" : "years"}`
      : `${human.number(days)} days`;
  return line(human, {
    key,
    label,
    formula: "storage per day × days of retention",
    substituted: `${human.size(bytesPerDay)}/day × ${span}`,
    value: bytesPerDay * days,
    unit: "bytes",
  });
}

/** Stored bytes with replicas = logical bytes × replication factor. */
export function replicatedStorage(
  human: Human,
  logicalBytes: number,
  replicationFactor: number,
): EstimateLine {
  return line(human, {
    key: "storage_replicated",
    label: "Storage over retention with replicas",
    formula: "storage over retention × replication factor",
    substituted: `${human.size(logicalBytes)} × ${human.integer(replicationFactor)}`,
    value: logicalBytes * replicationFactor,
    unit: "bytes",
  });
}

/** Average ingress = bytes written per day / 86,400 s. */
export function ingressBandwidth(human: Human, bytesPerDay: number): EstimateLine {
  return line(human, {
    key: "ingress",
    label: "Ingress bandwidth (average)",
    formula: "storage per day / seconds per day",
    substituted: `${human.size(bytesPerDay)} / ${human.integer(SECONDS_PER_DAY)} s`,
    value: bytesPerDay / SECONDS_PER_DAY,
    unit: "bytes/s",
  });
}

/**
 * Average egress = ingress × read:write ratio: each read returns what an
 * average write stored. That overstates egress when reads skip large objects
 * (timelines that show thumbnails), which is the safe side for sizing.
 */
export function egressBandwidth(
  human: Human,
  ingressBytesPerSecond: number,
  readWriteRatio: number,
): EstimateLine {
  return line(human, {
    key: "egress",
    label: "Egress bandwidth (average)",
    formula: "ingress × read:write ratio",
    substituted: `${human.size(ingressBytesPerSecond)}/s × ${human.number(readWriteRatio)}`,
    value: ingressBytesPerSecond * readWriteRatio,
    unit: "bytes/s",
  });
}

/** Peak bandwidth = average bandwidth × peak factor. */
export function peakBandwidth(
  human: Human,
  key: string,
  label: string,
  bytesPerSecond: number,
  peakFactor: number,
): EstimateLine {
  return line(human, {
    key,
    label,
    formula: "average bandwidth × peak factor",
    substituted: `${human.size(bytesPerSecond)}/s × ${human.number(peakFactor)}`,
    value: bytesPerSecond * peakFactor,
    unit: "bytes/s",
  });
}

/** Cache memory = storage per day × days in the cache window × hot fraction. */
export function cacheMemory(
  human: Human,
  bytesPerDay: number,
  cacheWindowSeconds: number,
  hotFraction: number,
): EstimateLine {
  const days = cacheWindowSeconds / SECONDS_PER_DAY;
  return line(human, {
    key: "cache_memory",
    label: "Cache memory for the hot set",
    formula: "storage per day × days in cache window × hot fraction",
    substituted: `${human.size(bytesPerDay)}/day × ${human.number(days)} ${days === 1 ? "day" : "days"} × ${human.percent(hotFraction)}`,
    value: bytesPerDay * days * hotFraction,
    unit: "bytes",
  });
}

/**
 * Servers = ⌈(peak write QPS + peak read QPS) / QPS one server handles⌉; a
 * fraction of a server is a server. The quotient is rounded to 12 significant
 * digits first so float noise (7.000000000001) does not buy an extra machine.
 */
export function serversNeeded(
  human: Human,
  peakWriteQps: number,
  peakReadQps: number | undefined,
  serverCapacityQps: number,
): EstimateLine {
  const peakTotal = peakWriteQps + (peakReadQps ?? 0);
  const demand =
    peakReadQps === undefined
      ? `${human.count(peakWriteQps)}/s`
      : `(${human.count(peakWriteQps)}/s + ${human.count(peakReadQps)}/s)`;
  return line(human, {
    key: "servers",
    label: "Servers needed at peak",
    formula:
      peakReadQps === undefined
        ? "⌈peak write QPS / QPS per server⌉"
        : "⌈(peak write QPS + peak read QPS) / QPS per server⌉",
    substituted: `⌈${demand} / ${human.count(serverCapacityQps)}/s⌉`,
    value: Math.ceil(Number((peakTotal / serverCapacityQps).toPrecision(12))),
    unit: "servers",
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
