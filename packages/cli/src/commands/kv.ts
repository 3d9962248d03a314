/**
 * `scaleout kv node | up`: the key-value node of @scaleout/kv. This module
 * only maps flags onto the package's configuration (which validates them)
 * and waits for the node to stop; the work lives in the package.
 */
import {
  ConfigError,
  connectionHelp,
  DEFAULT_NODE_CONFIG,
  DEFAULT_UP_OPTIONS,
  KvError,
  KvNode,
  resolveNodeConfig,
  runUntilStopped,
  startLocalDeployment,
} from "@scaleout/kv";
import { Command } from "commander";
import { CliError } from "../errors.js";
import { integerOption } from "../options.js";

function asCliError(error: unknown): unknown {
  if (error instanceof ConfigError) return new CliError(error.message, 2);
  if (error instanceof KvError) return new CliError(error.message, 1);
  return error;
}

/** Flag → configuration name (the package validates the value and names the field on error). */
const NODE_FLAGS: [flag: string, name: string, help: string][] = [
  ["--bind <address>", "bind", `interface to bind (default ${DEFAULT_NODE_CONFIG.bind})`],
  ["--port <port>", "port", `Redis-protocol port (default ${DEFAULT_NODE_CONFIG.port})`],
  [
    "--memcached-port <port>",
    "memcached-port",
    `memcached text-protocol port, 0 = off (default ${DEFAULT_NODE_CONFIG.memcachedPort})`,
  ],
  [
    "--http-port <port>",
    "http-port",
    `HTTP port, 0 = off (default ${DEFAULT_NODE_CONFIG.httpPort})`,
  ],
  [
    "--data-dir <dir>",
    "data-dir",
    `data directory of the lsm engine (default ${DEFAULT_NODE_CONFIG.dataDir})`,
  ],
  ["--engine <engine>", "engine", "lsm (durable, default) | memory (cache tier)"],
  [
    "--maxmemory <size>",
    "maxmemory",
    "memory engine limit, e.g. 100mb, 1gb (default 0 = unlimited)",
  ],
  ["--eviction <policy>", "maxmemory-policy", "noeviction (default) | lru | lfu | fifo"],
  ["--requirepass <password>", "requirepass", "password for AUTH (and HTTP Bearer)"],
  ["--appendfsync <policy>", "appendfsync", "lsm durability: always | everysec (default) | no"],
  ["--timeout <seconds>", "timeout", "close clients idle this long, 0 = never (default 0)"],
  [
    "--maxclients <n>",
    "maxclients",
    `connection limit (default ${DEFAULT_NODE_CONFIG.maxClients})`,
  ],
  ["--proto-max-bulk-len <size>", "proto-max-bulk-len", "largest bulk argument (default 512mb)"],
  [
    "--client-query-buffer-limit <size>",
    "client-query-buffer-limit",
    "largest unfinished request (default 1gb)",
  ],
  [
    "--client-output-buffer-limit <size>",
    "client-output-buffer-limit",
    "unread reply bytes before a client is dropped (default 64mb)",
  ],
  ["--max-key-bytes <n>", "max-key-bytes", "longest key (default 65536)"],
  [
    "--log-level <level>",
    "log-level",
    "fatal | error | warn | info (default) | debug | trace | silent",
  ],
];

function attributeOf(flag: string): string {
  const long = flag.split(" ")[0]!.slice(2);
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function nodeCommand(): Command {
  const command = new Command("node")
    .description("run one key-value node (Redis protocol, memcached protocol, HTTP)")
    .option(
      "--config <file>",
      "YAML file with settings (same names as the flags, e.g. maxmemory: 1gb)",
    );
  for (const [flag, , help] of NODE_FLAGS) command.option(flag, help);
  command.addHelpText(
    "after",
    "\nSettings come from defaults < --config YAML < SCALEOUT_KV_<NAME> environment < flags.",
  );
  return command.action(async (options: Record<string, string | undefined>) => {
    const flags: Record<string, string | undefined> = {};
    for (const [flag, name] of NODE_FLAGS) flags[name] = options[attributeOf(flag)];
    try {
      const config = resolveNodeConfig({ flags, env: process.env, configFile: options.config });
      const node = await KvNode.start(config);
      await runUntilStopped(node);
    } catch (error) {
      throw asCliError(error);
    }
  });
}

function upCommand(): Command {
  return new Command("up")
    .description(
      "start a local deployment (for now one lsm node with data under ./data) and print how to connect",
    )
    .option("--data <dir>", "data root", DEFAULT_UP_OPTIONS.dataRoot)
    .option(
      "--port <port>",
      "Redis-protocol port",
      integerOption(1, 65535),
      DEFAULT_UP_OPTIONS.port,
    )
    .option(
      "--memcached-port <port>",
      "memcached port, 0 = off",
      integerOption(0, 65535),
      DEFAULT_UP_OPTIONS.memcachedPort,
    )
    .option(
      "--http-port <port>",
      "HTTP port, 0 = off",
      integerOption(0, 65535),
      DEFAULT_UP_OPTIONS.httpPort,
    )
    .action(
      async (options: { data: string; port: number; memcachedPort: number; httpPort: number }) => {
        try {
          const node = await startLocalDeployment({
            dataRoot: options.data,
            port: options.port,
            memcachedPort: options.memcachedPort,
            httpPort: options.httpPort,
            logLevel: DEFAULT_UP_OPTIONS.logLevel,
          });
          process.stdout.write(connectionHelp(node));
          await runUntilStopped(node);
          process.stdout.write("scaleout kv: stopped\n");
        } catch (error) {
          throw asCliError(error);
        }
      },
    );
}

export function kvCommand(): Command {
  return new Command("kv")
    .description("Dynamo-style key-value store: run a node or a local deployment")
    .addCommand(nodeCommand())
    .addCommand(upCommand());
}
