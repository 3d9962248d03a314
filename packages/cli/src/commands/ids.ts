/**
 * `scaleout ids serve | next | decode`: the Snowflake id generator and service
 * of @scaleout/snowflake. This module only parses flags, reads the optional
 * YAML config file and prints; everything else lives in the package.
 */
import { readFileSync } from "node:fs";
import {
  CONFIG_FIELDS,
  type ConfigField,
  closeOnSignals,
  createLeasedGenerator,
  DEFAULT_CONFIG,
  decode,
  envName,
  type GeneratorOptions,
  layoutOf,
  PRESET_NAMES,
  type PresetName,
  parseId,
  type RawConfig,
  resolveIdServiceConfig,
  SnowflakeError,
  SnowflakeGenerator,
  startIdService,
} from "@scaleout/snowflake";
import { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { CliError } from "../errors.js";
import { choiceOption, integerOption } from "../options.js";

/** `ids next` prints at most this many ids per run (bounded output and memory). */
const MAX_NEXT_COUNT = 1_000_000;
/** Largest config file read (a config is a handful of lines). */
const MAX_CONFIG_BYTES = 64 * 1024;

function asCliError(error: unknown): unknown {
  return error instanceof SnowflakeError ? new CliError(error.message, 1) : error;
}

interface LayoutFlags {
  preset: PresetName;
  epochMs?: number;
}

interface NextFlags extends LayoutFlags {
  count: number;
  datacenter: number;
  machine: number;
  lease?: string;
  stateFile?: string;
  json?: boolean;
}

interface DecodeFlags extends LayoutFlags {
  json?: boolean;
}

type ServeFlags = Record<string, string | undefined> & { config?: string };

/** Flag name for each config field: epochMs → --epoch-ms. */
function flagName(field: ConfigField): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const SERVE_FLAG_HELP: Record<ConfigField, string> = {
  host: `address to bind (default ${DEFAULT_CONFIG.host})`,
  port: `TCP port, 0 for any free one (default ${DEFAULT_CONFIG.port})`,
  preset: `layout: ${PRESET_NAMES.join(" | ")} (default ${DEFAULT_CONFIG.preset})`,
  epochMs: "custom epoch in Unix ms, replacing the preset's",
  datacenter: "datacenter id (default 0)",
  machine: "fixed machine id (or use --lease)",
  lease: "lease the machine id from Redis, e.g. redis://127.0.0.1:6379",
  leaseTtlMs: `lease time to live (default ${DEFAULT_CONFIG.leaseTtlMs})`,
  stateFile: "restart-safety state file (reserves time ahead; flushed on shutdown)",
  maxBackwardsMs: `clock steps back up to this are waited out (default ${DEFAULT_CONFIG.maxBackwardsMs})`,
  maxLagMs:
    "let ids carry timestamps up to this many ms behind the clock, to fill time units skipped while descheduled (default 0)",
  maxStartupWaitMs: `longest wait at start for the clock to pass a reservation (default ${DEFAULT_CONFIG.maxStartupWaitMs})`,
  maxBatch: `largest count GET /ids accepts (default and limit ${DEFAULT_CONFIG.maxBatch})`,
  logLevel: `pino log level (default ${DEFAULT_CONFIG.logLevel})`,
};

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  if (text.length > MAX_CONFIG_BYTES)
    throw new CliError(`config file ${path} is over ${MAX_CONFIG_BYTES} bytes`);
  try {
    return parseYaml(text);
  } catch (error) {
    throw new CliError(
      `config file ${path} is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

function layoutFromFlags(flags: LayoutFlags) {
  return layoutOf({ preset: flags.preset, epochMs: flags.epochMs ?? null });
}

async function runNext(flags: NextFlags): Promise<void> {
  const layout = layoutFromFlags(flags);
  const options: GeneratorOptions = {
    layout,
    datacenter: flags.datacenter,
    machine: flags.machine,
  };
  if (flags.stateFile !== undefined) options.stateFile = flags.stateFile;
  let ids: string[];
  if (flags.lease !== undefined) {
    const { machine: _fixed, ...rest } = options;
    const leased = await createLeasedGenerator({ ...rest, lease: { url: flags.lease } });
    try {
      await leased.generator.waitUntilReady();
      ids = leased.generator.nextStrings(flags.count);
    } finally {
      await leased.close();
    }
  } else {
    const generator = new SnowflakeGenerator(options);
    try {
      ids = generator.nextStrings(flags.count);
    } finally {
      generator.close();
    }
  }
  const text = flags.json === true ? `{"ids":["${ids.join('","')}"]}\n` : `${ids.join("\n")}\n`;
  process.stdout.write(text);
}

function runDecode(id: string, flags: DecodeFlags): void {
  const decoded = decode(parseId(id.trim()), layoutFromFlags(flags));
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(decoded)}\n`);
    return;
  }
  const lines = [
    `id          ${decoded.id}`,
    `timestamp   ${decoded.timestamp}`,
    `iso         ${decoded.iso}`,
    `datacenter  ${decoded.datacenter}`,
    `machine     ${decoded.machine}`,
    `sequence    ${decoded.sequence}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function runServe(flags: ServeFlags): Promise<void> {
  const raw: RawConfig = {};
  for (const field of CONFIG_FIELDS) {
    const value = flags[field];
    if (value !== undefined) raw[field] = value;
  }
  const sources = {
    flags: raw,
    env: process.env,
    ...(flags.config !== undefined
      ? { file: readConfigFile(flags.config), fileName: flags.config }
      : {}),
  };
  const config = resolveIdServiceConfig(sources);
  const service = await startIdService(config);
  closeOnSignals(service);
  // One line on stdout with the bound address, for scripts that start the service on port 0.
  process.stdout.write(`listening on ${service.url}\n`);
}

function addLayoutOptions(command: Command): Command {
  return command
    .option(
      "--preset <name>",
      `layout: ${PRESET_NAMES.join(" | ")}`,
      choiceOption(PRESET_NAMES),
      "twitter",
    )
    .option("--epoch-ms <ms>", "custom epoch in Unix ms, replacing the preset's", integerOption(0));
}

export function idsCommand(): Command {
  const ids = new Command("ids").description(
    "Unique ids (chapter 7): 64-bit time-sortable Snowflake ids, an HTTP id service, decoding.",
  );

  const serve = ids
    .command("serve")
    .description(
      `Run the HTTP id service: GET /id, /ids?count=N, /decode/:id, /healthz, /readyz, /metrics. ` +
        `Settings come from flags, then environment (${envName("port")}, ...), then --config YAML.`,
    )
    .option("--config <file>", "YAML file with any of the settings below (camelCase keys)");
  for (const field of CONFIG_FIELDS) {
    serve.option(`--${flagName(field)} <value>`, SERVE_FLAG_HELP[field]);
  }
  serve.action(async (flags: ServeFlags) => {
    try {
      await runServe(flags);
    } catch (error) {
      throw asCliError(error);
    }
  });

  addLayoutOptions(
    ids
      .command("next")
      .description(
        'Print new ids, one per line (or {"ids":[...]} with --json), as decimal strings.',
      )
      .option(
        "--count <n>",
        `how many ids (1..${MAX_NEXT_COUNT})`,
        integerOption(1, MAX_NEXT_COUNT),
        1,
      )
      .option("--datacenter <id>", "datacenter id", integerOption(0), 0)
      .option("--machine <id>", "machine id (ignored with --lease)", integerOption(0), 0)
      .option("--lease <url>", "lease the machine id from Redis (redis://host:port) for this run")
      .option("--state-file <path>", "restart-safety state file")
      .option("--json", "print one JSON object"),
  ).action(async (flags: NextFlags) => {
    try {
      await runNext(flags);
    } catch (error) {
      throw asCliError(error);
    }
  });

  addLayoutOptions(
    ids
      .command("decode")
      .description("Decode an id into timestamp, iso, datacenter, machine and sequence.")
      .argument("<id>", "the id, a decimal integer below 2^63")
      .option("--json", "print one JSON object"),
  ).action((id: string, flags: DecodeFlags) => {
    try {
      runDecode(id, flags);
    } catch (error) {
      throw asCliError(error);
    }
  });

  return ids;
}
