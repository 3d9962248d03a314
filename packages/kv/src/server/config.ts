/**
 * Node configuration: defaults, then an optional YAML file, then environment
 * variables (SCALEOUT_KV_<NAME>, e.g. SCALEOUT_KV_MAXMEMORY), then flags —
 * later sources win. Every value is validated at start; a bad one stops the
 * node with one line naming the field (ConfigError). Names follow Redis's
 * config names where one exists (maxmemory, requirepass, appendfsync, timeout,
 * maxclients, proto-max-bulk-len, client-query-buffer-limit).
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../errors.js";
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_BULK_BYTES,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_OUTPUT_BUFFER_LIMIT_BYTES,
  DEFAULT_QUERY_BUFFER_LIMIT_BYTES,
} from "../limits.js";
import { EVICTION_POLICY_ALIASES, type EvictionPolicy } from "../storage/eviction.js";
import { APPENDFSYNC_POLICIES, type AppendFsync } from "../storage/lsm.js";
import type { EngineName } from "../storage/store.js";

export interface NodeConfig {
  /** Interface to bind (default 127.0.0.1). */
  bind: string;
  port: number;
  /** 0 disables the memcached listener. */
  memcachedPort: number;
  /** 0 disables the HTTP listener. */
  httpPort: number;
  dataDir: string;
  engine: EngineName;
  /** 0 = unlimited (memory engine only). */
  maxMemoryBytes: number;
  eviction: EvictionPolicy;
  requirePass: string | undefined;
  appendfsync: AppendFsync;
  idleTimeoutSeconds: number;
  maxClients: number;
  maxBulkBytes: number;
  queryBufferLimitBytes: number;
  outputBufferLimitBytes: number;
  maxKeyBytes: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  memtableSizeBytes: number | undefined;
  blockCacheSizeBytes: number | undefined;
  rowCacheSizeBytes: number | undefined;
}

export const DEFAULT_NODE_CONFIG: NodeConfig = {
  bind: "127.0.0.1",
  port: 7001,
  memcachedPort: 11211,
  httpPort: 8001,
  dataDir: "./data/n1",
  engine: "lsm",
  maxMemoryBytes: 0,
  eviction: "noeviction",
  requirePass: undefined,
  appendfsync: "everysec",
  idleTimeoutSeconds: DEFAULT_IDLE_TIMEOUT_SECONDS,
  maxClients: DEFAULT_MAX_CLIENTS,
  maxBulkBytes: DEFAULT_MAX_BULK_BYTES,
  queryBufferLimitBytes: DEFAULT_QUERY_BUFFER_LIMIT_BYTES,
  outputBufferLimitBytes: DEFAULT_OUTPUT_BUFFER_LIMIT_BYTES,
  maxKeyBytes: DEFAULT_MAX_KEY_BYTES,
  logLevel: "info",
  memtableSizeBytes: undefined,
  blockCacheSizeBytes: undefined,
  rowCacheSizeBytes: undefined,
};

type Raw = string | number | boolean | undefined | null;

/** Each setting: its external name (flag, YAML key, env suffix) and its parser. */
const FIELDS: {
  [K in keyof NodeConfig]: { name: string; parse: (raw: Raw, name: string) => NodeConfig[K] };
} = {
  bind: { name: "bind", parse: (raw, name) => nonEmpty(raw, name) },
  port: { name: "port", parse: (raw, name) => port(raw, name, false) },
  memcachedPort: { name: "memcached-port", parse: (raw, name) => port(raw, name, true) },
  httpPort: { name: "http-port", parse: (raw, name) => port(raw, name, true) },
  dataDir: { name: "data-dir", parse: (raw, name) => nonEmpty(raw, name) },
  engine: { name: "engine", parse: (raw, name) => choice(raw, name, ["lsm", "memory"] as const) },
  maxMemoryBytes: { name: "maxmemory", parse: (raw, name) => memory(raw, name) },
  eviction: {
    name: "maxmemory-policy",
    parse: (raw, name) => {
      const policy = EVICTION_POLICY_ALIASES[String(raw).toLowerCase()];
      if (policy === undefined) {
        throw new ConfigError(
          name,
          `"${raw}" is not one of ${Object.keys(EVICTION_POLICY_ALIASES).join(", ")}`,
        );
      }
      return policy;
    },
  },
  requirePass: {
    name: "requirepass",
    parse: (raw) => (raw === undefined || raw === null || raw === "" ? undefined : String(raw)),
  },
  appendfsync: {
    name: "appendfsync",
    parse: (raw, name) => choice(raw, name, APPENDFSYNC_POLICIES),
  },
  idleTimeoutSeconds: {
    name: "timeout",
    parse: (raw, name) => integer(raw, name, 0, 365 * 86_400),
  },
  maxClients: { name: "maxclients", parse: (raw, name) => integer(raw, name, 1, 1_000_000) },
  maxBulkBytes: {
    name: "proto-max-bulk-len",
    parse: (raw, name) => memory(raw, name, 1024 * 1024),
  },
  queryBufferLimitBytes: {
    name: "client-query-buffer-limit",
    parse: (raw, name) => memory(raw, name, 1024 * 1024),
  },
  outputBufferLimitBytes: {
    name: "client-output-buffer-limit",
    parse: (raw, name) => memory(raw, name, 64 * 1024),
  },
  maxKeyBytes: { name: "max-key-bytes", parse: (raw, name) => integer(raw, name, 1, 64 * 1024) },
  logLevel: {
    name: "log-level",
    parse: (raw, name) =>
      choice(raw, name, ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
  },
  memtableSizeBytes: { name: "memtable-size", parse: (raw, name) => memory(raw, name, 64 * 1024) },
  blockCacheSizeBytes: { name: "block-cache-size", parse: (raw, name) => memory(raw, name, 0) },
  rowCacheSizeBytes: { name: "row-cache-size", parse: (raw, name) => memory(raw, name, 0) },
};

/** The external names, for --help texts and validation of YAML keys. */
export const CONFIG_NAMES: readonly string[] = Object.values(FIELDS).map((field) => field.name);

export interface ConfigSources {
  /** Values from command-line flags, keyed by external name ("memcached-port"). */
  flags?: Record<string, Raw>;
  /** Environment (SCALEOUT_KV_<NAME> with dashes as underscores). */
  env?: Record<string, string | undefined>;
  /** Path to a YAML file with external names as keys. */
  configFile?: string | undefined;
}

export function resolveNodeConfig(sources: ConfigSources = {}): NodeConfig {
  const raw = new Map<string, Raw>();
  if (sources.configFile !== undefined) {
    let document: unknown;
    try {
      document = parseYaml(readFileSync(sources.configFile, "utf8"));
    } catch (cause) {
      throw new ConfigError(
        "config",
        `cannot read ${sources.configFile}: ${(cause as Error).message}`,
      );
    }
    if (document !== null && document !== undefined) {
      if (typeof document !== "object" || Array.isArray(document)) {
        throw new ConfigError(
          "config",
          `${sources.configFile} must be a mapping of setting names to values`,
        );
      }
      for (const [name, value] of Object.entries(document as Record<string, unknown>)) {
        if (!CONFIG_NAMES.includes(name))
          throw new ConfigError(name, `unknown setting in ${sources.configFile}`);
        raw.set(name, value as Raw);
      }
    }
  }
  for (const name of CONFIG_NAMES) {
    const value = sources.env?.[`SCALEOUT_KV_${name.toUpperCase().replaceAll("-", "_")}`];
    if (value !== undefined) raw.set(name, value);
  }
  for (const [name, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    if (!CONFIG_NAMES.includes(name)) throw new ConfigError(name, "unknown setting");
    raw.set(name, value);
  }
  const config: NodeConfig = { ...DEFAULT_NODE_CONFIG };
  for (const key of Object.keys(FIELDS) as (keyof NodeConfig)[]) {
    const field = FIELDS[key];
    if (!raw.has(field.name)) continue;
    (config as unknown as Record<string, unknown>)[key] = field.parse(
      raw.get(field.name),
      field.name,
    );
  }
  if (config.engine === "lsm" && config.maxMemoryBytes !== 0) {
    throw new ConfigError(
      "maxmemory",
      "applies to the memory engine only (the lsm engine keeps data on disk)",
    );
  }
  return config;
}

/** Parses one setting by its external name (CONFIG SET reuses the validators). */
export function parseSetting<K extends keyof NodeConfig>(key: K, raw: string): NodeConfig[K] {
  return FIELDS[key].parse(raw, FIELDS[key].name);
}

export function settingName(key: keyof NodeConfig): string {
  return FIELDS[key].name;
}

function nonEmpty(raw: Raw, name: string): string {
  if (raw === undefined || raw === null || String(raw).trim() === "")
    throw new ConfigError(name, "must not be empty");
  return String(raw);
}

function integer(raw: Raw, name: string, min: number, max: number): number {
  const text = String(raw).trim();
  if (!/^-?\d+$/.test(text)) throw new ConfigError(name, `"${raw}" is not an integer`);
  const value = Number(text);
  if (value < min || value > max)
    throw new ConfigError(name, `${value} is out of range (${min}..${max})`);
  return value;
}

function port(raw: Raw, name: string, allowZero: boolean): number {
  const value = integer(raw, name, 0, 65535);
  if (value === 0 && !allowZero) throw new ConfigError(name, "must be 1..65535");
  return value;
}

function choice<T extends string>(raw: Raw, name: string, choices: readonly T[]): T {
  const text = String(raw).toLowerCase();
  if (!(choices as readonly string[]).includes(text)) {
    throw new ConfigError(name, `"${raw}" is not one of ${choices.join(", ")}`);
  }
  return text as T;
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/** Redis memtoull: "100", "1k" (1000), "1kb" (1024), "1m", "1mb", "1g", "1gb", case-insensitive. */
export function parseMemory(text: string): number | undefined {
  const match = /^(\d+)([a-z]*)$/i.exec(text.trim());
  if (match === null) return undefined;
  const unit = MEMORY_UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Number(match[1]) * unit;
  return Number.isSafeInteger(value) ? value : undefined;
}

function memory(raw: Raw, name: string, min = 0): number {
  const value = parseMemory(String(raw));
  if (value === undefined)
    throw new ConfigError(name, `"${raw}" is not a memory size (e.g. 100mb, 1gb)`);
  if (value < min) throw new ConfigError(name, `${value} bytes is below the minimum of ${min}`);
  return value;
}
