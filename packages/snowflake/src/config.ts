/**
 * Configuration of `scaleout ids serve`, merged from (lowest to highest
 * priority) defaults, an optional YAML file, environment variables and flags,
 * and validated before anything starts. A bad value is refused with one line
 * naming the field, where it came from and why.
 *
 * YAML keys are the field names below (camelCase); environment variables are
 * SCALEOUT_IDS_ plus the field name in SCREAMING_SNAKE_CASE (SCALEOUT_IDS_PORT,
 * SCALEOUT_IDS_LEASE_TTL_MS, ...).
 */
import {
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_MAX_BACKWARDS_MS,
  DEFAULT_MAX_STARTUP_WAIT_MS,
  MAX_BATCH_COUNT,
  MAX_LAG_MS,
} from "./constants.js";
import { SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import {
  isPresetName,
  type Layout,
  PRESET_NAMES,
  type PresetName,
  preset,
  validateLayout,
} from "./layout.js";

export interface IdServiceConfig {
  host: string;
  port: number;
  preset: PresetName;
  /** Overrides the preset's epoch (Unix ms); null keeps it. */
  epochMs: number | null;
  datacenter: number;
  /** Fixed machine id; null when leased. */
  machine: number | null;
  /** redis:// URL to lease the machine id from; null when fixed. */
  lease: string | null;
  leaseTtlMs: number;
  stateFile: string | null;
  maxBackwardsMs: number;
  /** Ids may carry timestamps up to this many ms behind the clock (0: never). */
  maxLagMs: number;
  maxStartupWaitMs: number;
  /** Largest count GET /ids accepts. */
  maxBatch: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const CONFIG_FIELDS = [
  "host",
  "port",
  "preset",
  "epochMs",
  "datacenter",
  "machine",
  "lease",
  "leaseTtlMs",
  "stateFile",
  "maxBackwardsMs",
  "maxLagMs",
  "maxStartupWaitMs",
  "maxBatch",
  "logLevel",
] as const;

export type ConfigField = (typeof CONFIG_FIELDS)[number];

/** Raw values as they arrive: strings from flags and env, anything from YAML. */
export type RawConfig = Partial<Record<ConfigField, unknown>>;

export interface ConfigSources {
  /** Parsed YAML document (or undefined), and its file name for messages. */
  file?: unknown;
  fileName?: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: RawConfig;
}

export const DEFAULT_CONFIG: IdServiceConfig = {
  host: "127.0.0.1",
  port: 8080,
  preset: "twitter",
  epochMs: null,
  datacenter: 0,
  machine: null,
  lease: null,
  leaseTtlMs: DEFAULT_LEASE_TTL_MS,
  stateFile: null,
  maxBackwardsMs: DEFAULT_MAX_BACKWARDS_MS,
  maxLagMs: 0,
  maxStartupWaitMs: DEFAULT_MAX_STARTUP_WAIT_MS,
  maxBatch: MAX_BATCH_COUNT,
  logLevel: "info",
};

export function envName(field: ConfigField): string {
  return `SCALEOUT_IDS_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

class FieldError extends Error {}

function integerIn(min: number, max: number) {
  return (raw: unknown): number => {
    const text =
      typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : null;
    if (text === null || !/^-?\d+$/.test(text))
      throw new FieldError(`must be an integer, got ${JSON.stringify(raw)}`);
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new FieldError(`must be in ${min}..${max}, got ${text}`);
    }
    return value;
  };
}

function nonEmptyString(raw: unknown): string {
  if (typeof raw !== "string" || raw.trim() === "")
    throw new FieldError(`must be a non-empty string, got ${JSON.stringify(raw)}`);
  return raw.trim();
}

const PARSERS: { [K in ConfigField]: (raw: unknown) => IdServiceConfig[K] } = {
  host: nonEmptyString,
  port: integerIn(0, 65_535),
  preset: (raw) => {
    const name = nonEmptyString(raw);
    if (!isPresetName(name))
      throw new FieldError(`must be one of ${PRESET_NAMES.join(", ")}, got "${name}"`);
    return name;
  },
  epochMs: integerIn(0, Number.MAX_SAFE_INTEGER),
  datacenter: integerIn(0, 2 ** 30),
  machine: integerIn(0, 2 ** 30),
  lease: (raw) => {
    const url = nonEmptyString(raw);
    if (!/^rediss?:\/\/[^\s]+$/.test(url))
      throw new FieldError(`must be a redis:// URL, got "${url}"`);
    return url;
  },
  leaseTtlMs: integerIn(100, 3_600_000),
  stateFile: nonEmptyString,
  maxBackwardsMs: integerIn(0, 60_000),
  maxLagMs: integerIn(0, MAX_LAG_MS),
  maxStartupWaitMs: integerIn(0, 3_600_000),
  maxBatch: integerIn(1, MAX_BATCH_COUNT),
  logLevel: (raw) => {
    const level = nonEmptyString(raw);
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new FieldError(`must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
    }
    return level as IdServiceConfig["logLevel"];
  },
};

function configError(field: string, source: string, why: string): SnowflakeError {
  return new SnowflakeError(SnowflakeErrorCode.CONFIG_INVALID, `${field} (from ${source}): ${why}`);
}

export function resolveIdServiceConfig(
  sources: ConfigSources,
  nowMs: number = Date.now(),
): IdServiceConfig {
  const config: IdServiceConfig = { ...DEFAULT_CONFIG };
  const apply = (field: ConfigField, raw: unknown, source: string) => {
    if (raw === undefined || raw === null) return;
    try {
      (config as unknown as Record<string, unknown>)[field] = PARSERS[field](raw);
    } catch (error) {
      if (error instanceof FieldError) throw configError(field, source, error.message);
      throw error;
    }
  };

  if (sources.file !== undefined && sources.file !== null) {
    const fileName = sources.fileName ?? "config file";
    if (typeof sources.file !== "object" || Array.isArray(sources.file)) {
      throw configError("(file)", fileName, "must be a YAML mapping of field: value");
    }
    for (const [key, value] of Object.entries(sources.file as Record<string, unknown>)) {
      if (!(CONFIG_FIELDS as readonly string[]).includes(key)) {
        throw configError(key, fileName, `unknown field (known: ${CONFIG_FIELDS.join(", ")})`);
      }
      apply(key as ConfigField, value, fileName);
    }
  }
  for (const field of CONFIG_FIELDS) {
    const name = envName(field);
    apply(field, sources.env?.[name], `environment ${name}`);
  }
  for (const field of CONFIG_FIELDS) apply(field, sources.flags?.[field], "flags");

  if (config.machine === null && config.lease === null) {
    throw configError(
      "machine",
      "all sources",
      "set a machine id, or --lease redis://… to lease one",
    );
  }
  if (config.machine !== null && config.lease !== null) {
    throw configError(
      "machine",
      "all sources",
      "give either a fixed machine id or a lease URL, not both",
    );
  }
  // Check the resulting layout and worker ids now, so a bad combination is one line at start.
  const layout = layoutOf(config);
  try {
    const geometry = validateLayout(layout, nowMs);
    if (config.datacenter > geometry.maxDatacenter) {
      throw configError(
        "datacenter",
        "all sources",
        `${config.datacenter} does not fit the ${layout.name} layout (0..${geometry.maxDatacenter})`,
      );
    }
    if (config.machine !== null && config.machine > geometry.maxMachine) {
      throw configError(
        "machine",
        "all sources",
        `${config.machine} does not fit the ${layout.name} layout (0..${geometry.maxMachine})`,
      );
    }
  } catch (error) {
    if (error instanceof SnowflakeError && error.code === SnowflakeErrorCode.LAYOUT_INVALID) {
      throw configError("epochMs", "all sources", error.message);
    }
    throw error;
  }
  return config;
}

export function layoutOf(config: Pick<IdServiceConfig, "preset" | "epochMs">): Layout {
  return config.epochMs === null
    ? preset(config.preset)
    : preset(config.preset, { epochMs: config.epochMs });
}
