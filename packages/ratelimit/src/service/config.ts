/**
 * Configuration of `scaleout ratelimit serve`, declared as data: each setting
 * has a flag, an environment variable and a YAML key, a default and a parser.
 * Precedence: flags, then environment, then the optional YAML file, then the
 * default. A bad value stops the service with one line naming the setting.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { RateLimitError } from "../errors.js";
import type { FailureMode } from "../stores/guarded-store.js";

export interface ServiceConfig {
  /** Rules file or directory (envoy format). */
  rules: string;
  host: string;
  httpPort: number;
  grpcPort: number;
  /** redis://host:port[/db]; empty means an in-process memory store (one instance only). */
  redisUrl: string;
  /** host:port,host:port of a Redis Cluster; takes precedence over redisUrl. */
  redisCluster: string;
  keyPrefix: string;
  storeTimeoutMs: number;
  failureMode: FailureMode;
  /** Decide from a per-instance memory store while Redis is failing. */
  fallbackMemory: boolean;
  localCache: boolean;
  localCacheMaxKeys: number;
  shadowMode: boolean;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  maxBodyBytes: number;
  maxConnections: number;
  reloadDebounceMs: number;
  shutdownTimeoutMs: number;
}

type Parser<T> = (raw: unknown) => T;

interface Setting<K extends keyof ServiceConfig> {
  key: K;
  flag: string;
  env: string;
  yaml: string;
  defaultValue: ServiceConfig[K] | undefined;
  parse: Parser<ServiceConfig[K]>;
  description: string;
}

class InvalidValue extends Error {}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const value =
      typeof raw === "number"
        ? raw
        : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw)
          ? Number(raw)
          : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new InvalidValue(`"${String(raw)}" is not an integer`);
    if (value < min || value > max)
      throw new InvalidValue(`${value} is out of range ${min}..${max}`);
    return value;
  };
const text: Parser<string> = (raw) => {
  if (typeof raw !== "string" && typeof raw !== "number")
    throw new InvalidValue("expected a string");
  return String(raw);
};
const flag: Parser<boolean> = (raw) => {
  if (typeof raw === "boolean") return raw;
  if (raw === "true" || raw === "1" || raw === "yes") return true;
  if (raw === "false" || raw === "0" || raw === "no") return false;
  throw new InvalidValue(`"${String(raw)}" is not true or false`);
};
const oneOf =
  <T extends string>(choices: readonly T[]): Parser<T> =>
  (raw) => {
    if (typeof raw !== "string" || !(choices as readonly string[]).includes(raw)) {
      throw new InvalidValue(`"${String(raw)}" is not one of ${choices.join(", ")}`);
    }
    return raw as T;
  };

function setting<K extends keyof ServiceConfig>(
  key: K,
  flagName: string,
  defaultValue: ServiceConfig[K] | undefined,
  parse: Parser<ServiceConfig[K]>,
  description: string,
  name = flagName.replace(/-/g, "_"),
): Setting<K> {
  return {
    key,
    flag: `--${flagName}`,
    env: `RATELIMIT_${name.toUpperCase()}`,
    yaml: name,
    defaultValue,
    parse,
    description,
  };
}

export const SERVICE_SETTINGS = [
  // The flag is --config, as `ratelimit check` and envoy call the rules; env and YAML say "rules".
  setting(
    "rules",
    "config",
    undefined,
    text,
    "rules file or directory (envoy ratelimit YAML)",
    "rules",
  ),
  setting("host", "host", "127.0.0.1", text, "address to listen on"),
  setting(
    "httpPort",
    "http-port",
    8080,
    integer(0, 65535),
    "HTTP port (check API, health, metrics, debug)",
  ),
  setting("grpcPort", "grpc-port", 8081, integer(0, 65535), "gRPC port (envoy RateLimitService)"),
  setting("redisUrl", "redis-url", "", text, "Redis URL; empty for an in-process store"),
  setting(
    "redisCluster",
    "redis-cluster",
    "",
    text,
    "Redis Cluster seed nodes host:port,host:port",
  ),
  setting("keyPrefix", "key-prefix", "rl:", text, "prefix of every Redis key"),
  setting("storeTimeoutMs", "store-timeout-ms", 100, integer(1, 60_000), "per-call store timeout"),
  setting(
    "failureMode",
    "failure-mode",
    "open",
    oneOf(["open", "closed"] as const),
    "answer when the store fails",
  ),
  setting(
    "fallbackMemory",
    "fallback-memory",
    false,
    flag,
    "decide in memory while the store fails",
  ),
  setting(
    "localCache",
    "local-cache",
    true,
    flag,
    "answer keys known to be over limit without the store",
  ),
  setting(
    "localCacheMaxKeys",
    "local-cache-max-keys",
    100_000,
    integer(1, 10_000_000),
    "bound on the over-limit cache",
  ),
  setting("shadowMode", "shadow-mode", false, flag, "count everything, deny nothing"),
  setting(
    "logLevel",
    "log-level",
    "info",
    oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
    "pino log level",
  ),
  setting(
    "maxBodyBytes",
    "max-body-bytes",
    65_536,
    integer(256, 16 * 1024 * 1024),
    "largest HTTP request body",
  ),
  setting(
    "maxConnections",
    "max-connections",
    10_000,
    integer(1, 1_000_000),
    "concurrent HTTP connections",
  ),
  setting(
    "reloadDebounceMs",
    "reload-debounce-ms",
    100,
    integer(0, 60_000),
    "wait for rule edits to settle",
  ),
  setting(
    "shutdownTimeoutMs",
    "shutdown-timeout-ms",
    10_000,
    integer(0, 600_000),
    "drain time on SIGTERM",
  ),
] as const;

export interface ConfigSources {
  /** Values from command-line flags, keyed by ServiceConfig field. */
  flags?: Partial<Record<keyof ServiceConfig, unknown>>;
  env?: Record<string, string | undefined>;
  /** Optional YAML file with snake_case keys (http_port, redis_url, ...). */
  file?: string;
}

function invalid(detail: string): never {
  throw new RateLimitError("SCALEOUT_RL_CONFIG_INVALID", detail);
}

export function resolveServiceConfig(sources: ConfigSources): ServiceConfig {
  let fileValues: Record<string, unknown> = {};
  if (sources.file !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(sources.file, "utf8"));
    } catch (error) {
      invalid(`${sources.file}: ${(error as Error).message.split("\n")[0]}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed))
        invalid(`${sources.file}: expected a mapping`);
      fileValues = parsed as Record<string, unknown>;
      const known = new Set<string>(SERVICE_SETTINGS.map((s) => s.yaml));
      for (const key of Object.keys(fileValues)) {
        if (!known.has(key))
          invalid(`${sources.file}: ${key}: unknown setting (known: ${[...known].join(", ")})`);
      }
    }
  }
  const config: Partial<Record<keyof ServiceConfig, unknown>> = {};
  for (const s of SERVICE_SETTINGS) {
    const fromFlag = sources.flags?.[s.key];
    const fromEnv = sources.env?.[s.env];
    const fromFile = fileValues[s.yaml];
    let origin: string;
    let raw: unknown;
    if (fromFlag !== undefined) {
      origin = s.flag;
      raw = fromFlag;
    } else if (fromEnv !== undefined && fromEnv !== "") {
      origin = s.env;
      raw = fromEnv;
    } else if (fromFile !== undefined) {
      origin = `${sources.file}: ${s.yaml}`;
      raw = fromFile;
    } else {
      if (s.defaultValue === undefined)
        invalid(`${s.flag} (or ${s.env}) is required: ${s.description}`);
      config[s.key] = s.defaultValue;
      continue;
    }
    try {
      config[s.key] = s.parse(raw);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      invalid(`${origin}: ${error.message}`);
    }
  }
  return config as ServiceConfig;
}
