/**
 * `scaleout ratelimit serve`: the stand-alone rate limit service (HTTP/JSON
 * and envoy's gRPC RateLimitService). `scaleout ratelimit check`: evaluate
 * rules from a terminal, in memory, without a server.
 */
import {
  type CheckRequest,
  checkResponseToJson,
  isRateLimitError,
  loadRuleSet,
  MemoryStore,
  RuleEngine,
  resolveServiceConfig,
  runRateLimitService,
  type ServiceConfig,
} from "@scaleout/ratelimit";
import { Command, Option } from "commander";
import { CliError } from "../errors.js";
import { integerOption } from "../options.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "k=v,k2=v2" → entries; a value may itself contain "=". */
function parseDescriptor(raw: string): { key: string; value: string }[] {
  return raw.split(",").map((part) => {
    const at = part.indexOf("=");
    if (at <= 0) throw new CliError(`--descriptor "${raw}": each entry must be key=value`);
    return { key: part.slice(0, at), value: part.slice(at + 1) };
  });
}

function asCliError(error: unknown): never {
  if (isRateLimitError(error)) throw new CliError(error.message);
  throw error;
}

function serveCommand(): Command {
  return new Command("serve")
    .description(
      "run the rate limit service: POST /v1/check, envoy gRPC ShouldRateLimit, /metrics, /healthz, /readyz",
    )
    .option(
      "-c, --config <path>",
      "rules file or directory, envoy ratelimit YAML (env RATELIMIT_RULES)",
    )
    .option(
      "--settings <file>",
      "optional YAML with service settings (snake_case keys: http_port, redis_url, ...)",
    )
    .option("--host <address>", "address to listen on (default 127.0.0.1)")
    .option("--http-port <port>", "HTTP port (default 8080)")
    .option("--grpc-port <port>", "gRPC port (default 8081)")
    .option("--redis-url <url>", "Redis URL shared by all instances; none for an in-process store")
    .option("--redis-cluster <nodes>", "Redis Cluster seed nodes host:port,host:port")
    .option("--key-prefix <prefix>", "prefix of every Redis key (default rl:)")
    .option("--store-timeout-ms <ms>", "per-call store timeout (default 100)")
    .addOption(
      new Option("--fail-open", "allow requests when the store fails (default)").conflicts(
        "failClosed",
      ),
    )
    .addOption(new Option("--fail-closed", "deny requests when the store fails"))
    .option("--fallback-memory", "decide in memory while the store fails")
    .option("--no-local-cache", "disable the local over-limit cache")
    .option("--local-cache-max-keys <n>", "bound on the over-limit cache (default 100000)")
    .option("--shadow-mode", "count everything, deny nothing")
    .option(
      "--log-level <level>",
      "fatal, error, warn, info, debug, trace or silent (default info)",
    )
    .option("--max-body-bytes <n>", "largest HTTP request body (default 65536)")
    .option("--max-connections <n>", "concurrent HTTP connections (default 10000)")
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const fromFlags: Partial<Record<keyof ServiceConfig, unknown>> = {
        rules: flags.config,
        host: flags.host,
        httpPort: flags.httpPort,
        grpcPort: flags.grpcPort,
        redisUrl: flags.redisUrl,
        redisCluster: flags.redisCluster,
        keyPrefix: flags.keyPrefix,
        storeTimeoutMs: flags.storeTimeoutMs,
        failureMode:
          flags.failClosed === true ? "closed" : flags.failOpen === true ? "open" : undefined,
        fallbackMemory: flags.fallbackMemory,
        // commander sets localCache to true unless --no-local-cache; only pass the explicit choice.
        localCache: flags.localCache === false ? false : undefined,
        localCacheMaxKeys: flags.localCacheMaxKeys,
        shadowMode: flags.shadowMode,
        logLevel: flags.logLevel,
        maxBodyBytes: flags.maxBodyBytes,
        maxConnections: flags.maxConnections,
      };
      let config: ServiceConfig;
      try {
        config = resolveServiceConfig({
          flags: fromFlags,
          env: process.env,
          ...(typeof flags.settings === "string" ? { file: flags.settings } : {}),
        });
      } catch (error) {
        asCliError(error);
      }
      try {
        await runRateLimitService(config);
      } catch (error) {
        asCliError(error);
      }
    });
}

function checkCommand(): Command {
  return new Command("check")
    .description("evaluate rules for one request from the terminal (in memory, no server)")
    .requiredOption("-c, --config <path>", "rules file or directory (envoy ratelimit YAML)")
    .requiredOption("-d, --domain <domain>", "rate limit domain")
    .requiredOption(
      "--descriptor <entries>",
      "one descriptor: key=value[,key=value...]; repeat for more",
      collect,
      [],
    )
    .option("--hits <n>", "cost of the request (hits_addend)", integerOption(1, 1_000_000), 1)
    .option(
      "--repeat <n>",
      "send the request this many times (watch the limit kick in)",
      integerOption(1, 1_000_000),
      1,
    )
    .option("--json", "print JSON lines instead of text")
    .action(
      async (flags: {
        config: string;
        domain: string;
        descriptor: string[];
        hits: number;
        repeat: number;
        json?: boolean;
      }) => {
        let engine: RuleEngine;
        try {
          const rules = loadRuleSet(flags.config);
          engine = new RuleEngine({ rules: () => rules, store: new MemoryStore() });
        } catch (error) {
          asCliError(error);
        }
        const request: CheckRequest = {
          domain: flags.domain,
          descriptors: flags.descriptor.map((raw) => ({ entries: parseDescriptor(raw) })),
          hitsAddend: flags.hits,
        };
        for (let i = 1; i <= flags.repeat; i++) {
          let response: Awaited<ReturnType<RuleEngine["check"]>>;
          try {
            response = await engine.check(request);
          } catch (error) {
            asCliError(error);
          }
          if (flags.json === true) {
            process.stdout.write(`${JSON.stringify(checkResponseToJson(response))}\n`);
            continue;
          }
          const parts = response.statuses.map((status, index) => {
            const rule = status.rule;
            const limit =
              rule === undefined
                ? "no rule"
                : rule.unlimited
                  ? "unlimited"
                  : `${rule.requestsPerUnit}/${rule.unit}`;
            const extra = status.shadowed ? " (shadow mode)" : "";
            return `  ${flags.descriptor[index]}: ${status.code} ${limit} remaining=${status.limitRemaining} reset=${status.durationUntilResetMs}ms${extra}`;
          });
          process.stdout.write(`#${i} ${response.overallCode}\n${parts.join("\n")}\n`);
        }
      },
    );
}

export function ratelimitCommand(): Command {
  return new Command("ratelimit")
    .description("rate limiter (chapter 4): run the service, or check rules from the terminal")
    .addCommand(serveCommand())
    .addCommand(checkCommand());
}
