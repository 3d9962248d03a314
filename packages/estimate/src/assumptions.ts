/**
 * The assumptions an estimate starts from, declared as data: each field's YAML
 * name, kind of quantity, meaning and example. Validation turns raw values
 * (from YAML, flags or a preset) into numbers in base units (users, bytes,
 * seconds), refusing anything odd with an error that names the field.
 */
import {
  DEFAULT_CACHE_WINDOW_SECONDS,
  DEFAULT_PEAK_FACTOR,
  DEFAULT_REPLICATION_FACTOR,
  OBJECT_KINDS_MAX,
} from "./constants.js";
import { parseCount, parseWholeCount } from "./count.js";
import { parseDuration } from "./duration.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { parseFraction, parseRatio } from "./fraction.js";
import { describeType } from "./number-text.js";
import { parseSize } from "./size.js";

export type FieldKind =
  | "text"
  | "count"
  | "whole"
  | "fraction"
  | "duration"
  | "ratio"
  | "objects"
  | "notes";

export interface FieldSpec {
  /** The YAML key; the flag is the same name in kebab case (`--monthly-active-users`). */
  readonly name: string;
  readonly kind: FieldKind;
  readonly description: string;
  readonly example: string;
}

export const ASSUMPTION_FIELDS: readonly FieldSpec[] = [
  { name: "name", kind: "text", description: "what is being estimated", example: "twitter" },
  {
    name: "description",
    kind: "text",
    description: "one line of context",
    example: "chapter 2 example",
  },
  { name: "action", kind: "text", description: "what one write is called", example: "tweet" },
  { name: "monthly_active_users", kind: "count", description: "MAU", example: "300m" },
  {
    name: "daily_active_fraction",
    kind: "fraction",
    description: "share of MAU active on a given day",
    example: "50%",
  },
  {
    name: "daily_active_users",
    kind: "count",
    description: "DAU, instead of MAU × daily fraction",
    example: "150m",
  },
  {
    name: "actions_per_user_per_day",
    kind: "count",
    description: "writes per active user per day",
    example: "2",
  },
  {
    name: "peak_factor",
    kind: "ratio",
    description: "peak QPS / average QPS (default 2)",
    example: "2x",
  },
  {
    name: "objects",
    kind: "objects",
    description: "stored object kinds: size and share of writes carrying one",
    example: "media: 1 MB @ 10%",
  },
  { name: "retention", kind: "duration", description: "how long data is kept", example: "5 years" },
  { name: "read_write_ratio", kind: "ratio", description: "reads per write", example: "100:1" },
  {
    name: "cache_hot_fraction",
    kind: "fraction",
    description: "share of recent data kept in cache",
    example: "20%",
  },
  {
    name: "cache_window",
    kind: "duration",
    description: "how much recent data the hot fraction applies to (default 1 day)",
    example: "1 day",
  },
  {
    name: "server_capacity_qps",
    kind: "count",
    description: "requests per second one server handles",
    example: "10k",
  },
  {
    name: "replication_factor",
    kind: "whole",
    description: "copies of each object stored (default 1)",
    example: "3",
  },
  {
    name: "notes",
    kind: "notes",
    description: "remarks carried into the output",
    example: "[...]",
  },
];

const FIELD_NAMES = new Set(ASSUMPTION_FIELDS.map((field) => field.name));

/** Text fields are labels, not documents. */
const TEXT_LENGTH_MAX = 200;
const NOTES_MAX = 32;

export interface ObjectKind {
  readonly name: string;
  readonly sizeBytes: number;
  /** Share of writes that carry one object of this kind, 0..1. */
  readonly fraction: number;
}

/** Validated assumptions in base units: users, bytes, seconds, plain ratios. */
export interface Assumptions {
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly action: string;
  readonly monthlyActiveUsers: number | undefined;
  readonly dailyActiveFraction: number | undefined;
  readonly dailyActiveUsers: number | undefined;
  readonly actionsPerUserPerDay: number;
  readonly peakFactor: number;
  readonly objects: readonly ObjectKind[];
  readonly retentionSeconds: number | undefined;
  readonly readWriteRatio: number | undefined;
  readonly cacheHotFraction: number | undefined;
  readonly cacheWindowSeconds: number | undefined;
  readonly serverCapacityQps: number | undefined;
  readonly replicationFactor: number;
  readonly notes: readonly string[];
  /** Fields that were not given and took their documented default. */
  readonly defaulted: readonly string[];
}

/** Raw assumptions as YAML gives them: field name → scalar, mapping or list. */
export type RawAssumptions = Readonly<Record<string, unknown>>;

export function parseAssumptions(raw: unknown): Assumptions {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new EstimateError(
      EstimateErrorCode.MALFORMED_YAML,
      undefined,
      `expected a mapping of assumptions (field: value), got ${describeType(raw)}`,
    );
  }
  const fields = raw as RawAssumptions;
  for (const key of Object.keys(fields)) {
    if (!FIELD_NAMES.has(key)) throw unknownField(key, FIELD_NAMES);
  }
  const given = (name: string): boolean => fields[name] !== undefined && fields[name] !== null;
  const optional = <T>(name: string, parse: (value: unknown, field: string) => T): T | undefined =>
    given(name) ? parse(fields[name], name) : undefined;

  const monthlyActiveUsers = optional("monthly_active_users", parseCount);
  const dailyActiveFraction = optional("daily_active_fraction", parseFraction);
  const dailyActiveUsers = optional("daily_active_users", parseCount);
  if (dailyActiveUsers !== undefined && monthlyActiveUsers !== undefined) {
    throw new EstimateError(
      EstimateErrorCode.CONFLICTING_FIELDS,
      "daily_active_users",
      "give either daily_active_users or monthly_active_users with daily_active_fraction, not both",
    );
  }
  if (dailyActiveUsers === undefined && monthlyActiveUsers === undefined) {
    throw new EstimateError(
      EstimateErrorCode.MISSING_FIELD,
      "monthly_active_users",
      "needed (with daily_active_fraction), or give daily_active_users",
    );
  }
  if (monthlyActiveUsers !== undefined && dailyActiveFraction === undefined) {
    throw missing("daily_active_fraction", "monthly_active_users", "50%");
  }
  if (dailyActiveUsers !== undefined && dailyActiveFraction !== undefined) {
    throw new EstimateError(
      EstimateErrorCode.CONFLICTING_FIELDS,
      "daily_active_fraction",
      "applies to monthly_active_users, which is not given (daily_active_users is)",
    );
  }
  const actionsPerUserPerDay = optional("actions_per_user_per_day", parseCount);
  if (actionsPerUserPerDay === undefined) {
    throw new EstimateError(
      EstimateErrorCode.MISSING_FIELD,
      "actions_per_user_per_day",
      'needed: how many writes an active user makes a day (e.g. "2")',
    );
  }

  const objects = given("objects") ? parseObjects(fields.objects) : [];
  const retentionSeconds = optional("retention", parseDuration);
  const cacheHotFraction = optional("cache_hot_fraction", parseFraction);
  const cacheWindowSeconds = optional("cache_window", parseDuration);
  if (cacheWindowSeconds !== undefined && cacheHotFraction === undefined) {
    throw missing("cache_hot_fraction", "cache_window", "20%");
  }
  const serverCapacityQps = optional("server_capacity_qps", parseCount);
  if (serverCapacityQps === 0) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      "server_capacity_qps",
      "must be more than 0",
    );
  }
  const replicationFactor = optional("replication_factor", parseWholeCount);
  if (replicationFactor === 0) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      "replication_factor",
      "must be at least 1",
    );
  }

  // Values are checked first, so a bad value is reported as such, not as missing objects.
  if (objects.length === 0) {
    for (const needsObjects of ["retention", "cache_hot_fraction", "replication_factor"]) {
      if (given(needsObjects)) throw missing("objects", needsObjects, "media: 1 MB @ 10%");
    }
  }
  const defaulted: string[] = [];
  const withDefault = <T>(name: string, value: T | undefined, fallback: T): T => {
    if (value !== undefined) return value;
    defaulted.push(name);
    return fallback;
  };
  return {
    name: optional("name", parseText),
    description: optional("description", parseText),
    action: optional("action", parseActionName) ?? "write",
    monthlyActiveUsers,
    dailyActiveFraction,
    dailyActiveUsers,
    actionsPerUserPerDay,
    peakFactor: withDefault(
      "peak_factor",
      optional("peak_factor", (value, field) => parseRatio(value, field, 1)),
      DEFAULT_PEAK_FACTOR,
    ),
    objects,
    retentionSeconds,
    readWriteRatio: optional("read_write_ratio", (value, field) => parseRatio(value, field, 0)),
    cacheHotFraction,
    cacheWindowSeconds:
      cacheHotFraction === undefined
        ? undefined
        : withDefault("cache_window", cacheWindowSeconds, DEFAULT_CACHE_WINDOW_SECONDS),
    serverCapacityQps,
    // Without objects nothing is stored, so the default is not worth reporting.
    replicationFactor:
      objects.length === 0
        ? DEFAULT_REPLICATION_FACTOR
        : withDefault("replication_factor", replicationFactor, DEFAULT_REPLICATION_FACTOR),
    notes: optional("notes", parseNotes) ?? [],
    defaulted,
  };
}

function missing(field: string, neededBy: string, example: string): EstimateError {
  return new EstimateError(
    EstimateErrorCode.MISSING_FIELD,
    field,
    `needed by ${neededBy} (e.g. "${example}")`,
  );
}

/** "unknown field" with the closest known name when it is plausibly a typo. */
export function unknownField(key: string, known: ReadonlySet<string>): EstimateError {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A third of the name wrong is still a typo; more than that is a different word.
  const hint =
    best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3))
      ? ` (did you mean ${best}?)`
      : ` (known: ${[...known].join(", ")})`;
  return new EstimateError(EstimateErrorCode.UNKNOWN_FIELD, key, `unknown field${hint}`);
}

/** Levenshtein distance; names are short, so the quadratic table is fine. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function parseText(raw: unknown, field: string): string {
  if (typeof raw !== "string" && typeof raw !== "number") {
    throw new EstimateError(
      EstimateErrorCode.WRONG_TYPE,
      field,
      `expected text, got ${describeType(raw)}`,
    );
  }
  const text = String(raw).trim();
  if (text.length > TEXT_LENGTH_MAX) {
    throw new EstimateError(
      EstimateErrorCode.TOO_LARGE,
      field,
      `longer than ${TEXT_LENGTH_MAX} characters`,
    );
  }
  return text;
}

function parseActionName(raw: unknown, field: string): string {
  const text = parseText(raw, field);
  if (!/^[a-zA-Z][\w -]{0,39}$/.test(text)) {
    throw new EstimateError(
      EstimateErrorCode.OUT_OF_RANGE,
      field,
      `"${text}" is not a short name such as "tweet" or "message"`,
    );
  }
  return text;
}

function parseNotes(raw: unknown, field: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > NOTES_MAX) {
    throw new EstimateError(EstimateErrorCode.TOO_LARGE, field, `more than ${NOTES_MAX} notes`);
  }
  return list.map((note, index) => parseText(note, `${field}[${index}]`));
}

const OBJECT_KIND_NAME = /^[a-zA-Z][\w-]{0,39}$/;
const OBJECT_FIELDS: ReadonlySet<string> = new Set(["size", "fraction"]);

/**
 * `objects` is a mapping from kind name to either `{size, fraction}` or the
 * shorthand "1 MB @ 10%" (fraction defaults to 100%: every write carries one).
 */
export function parseObjects(raw: unknown): ObjectKind[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new EstimateError(
      EstimateErrorCode.WRONG_TYPE,
      "objects",
      `expected a mapping such as "media: 1 MB @ 10%", got ${describeType(raw)}`,
    );
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > OBJECT_KINDS_MAX) {
    throw new EstimateError(
      EstimateErrorCode.TOO_LARGE,
      "objects",
      `more than ${OBJECT_KINDS_MAX} kinds`,
    );
  }
  return entries.map(([name, spec]) => {
    if (!OBJECT_KIND_NAME.test(name)) {
      throw new EstimateError(
        EstimateErrorCode.OUT_OF_RANGE,
        `objects.${name}`,
        "a kind name is a letter followed by letters, digits, _ or -",
      );
    }
    try {
      return { name, ...parseObjectSpec(spec) };
    } catch (error) {
      throw error instanceof EstimateError ? error.under(`objects.${name}`) : error;
    }
  });
}

/** One object kind's `{size, fraction}` or "1 MB @ 10%"; field names are relative. */
export function parseObjectSpec(raw: unknown): { sizeBytes: number; fraction: number } {
  if (typeof raw === "string" || typeof raw === "number") {
    const [size, fraction, extra] = String(raw).split("@");
    if (extra !== undefined) {
      throw new EstimateError(
        EstimateErrorCode.NOT_A_NUMBER,
        undefined,
        `"${raw}" has more than one @`,
      );
    }
    return {
      sizeBytes: parseSize(size?.trim(), "size"),
      fraction: fraction === undefined ? 1 : parseFraction(fraction.trim(), "fraction"),
    };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new EstimateError(
      EstimateErrorCode.WRONG_TYPE,
      undefined,
      `expected "1 MB @ 10%" or {size, fraction}, got ${describeType(raw)}`,
    );
  }
  const spec = raw as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!OBJECT_FIELDS.has(key)) throw unknownField(key, OBJECT_FIELDS);
  }
  if (spec.size === undefined || spec.size === null) {
    throw new EstimateError(EstimateErrorCode.MISSING_FIELD, "size", 'needed (e.g. "1 MB")');
  }
  return {
    sizeBytes: parseSize(spec.size, "size"),
    fraction: spec.fraction === undefined ? 1 : parseFraction(spec.fraction, "fraction"),
  };
}
