/**
 * Server commands: INFO, CONFIG, TIME, SHUTDOWN. INFO keeps Redis's layout
 * ("# Section" headers, "field:value" lines, CRLF) so tools that parse it work.
 */
import { array, bulk, error, map, NO_REPLY, OK, type Reply, verbatim } from "../resp/reply.js";
import { isWord, lowerName, text } from "./arguments.js";
import { REDIS_COMPATIBLE_VERSION } from "./connection.js";
import { globMatch } from "./glob.js";
import { SYNTAX_ERROR, wrongArity } from "./replies.js";
import type { CommandContext } from "./types.js";

const DEFAULT_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "keyspace",
];
/** `storage` (engine internals) is ours, not Redis's: only in INFO all / INFO storage. */
const ALL_SECTIONS = [...DEFAULT_SECTIONS, "commandstats", "storage"];

/** Builds INFO text for the requested sections (default, all, everything, or names). */
export async function buildInfo(
  context: CommandContext,
  requested: readonly string[],
): Promise<string> {
  let sections = DEFAULT_SECTIONS;
  if (requested.length > 0) {
    const names = requested.map((name) => name.toLowerCase());
    if (names.includes("all") || names.includes("everything")) sections = ALL_SECTIONS;
    else if (!names.includes("default"))
      sections = ALL_SECTIONS.filter((name) => names.includes(name));
  }
  const parts: string[] = [];
  for (const section of sections) {
    const lines = await infoSection(context, section);
    if (lines !== undefined) parts.push(lines);
  }
  return parts.join("\r\n");
}

async function infoSection(context: CommandContext, section: string): Promise<string | undefined> {
  const services = context.services;
  const stats = services.stats;
  const storeStats = context.store.stats();
  const nowMs = context.nowMs;
  const lines = (title: string, fields: [string, string | number][]): string =>
    `# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join("")}`;
  switch (section) {
    case "server":
      return lines("Server", [
        ["redis_version", REDIS_COMPATIBLE_VERSION],
        ["scaleout_kv_version", "0.1.0"],
        ["redis_mode", "standalone"],
        ["os", `${process.platform} ${process.arch}`],
        ["arch_bits", 64],
        ["process_id", process.pid],
        ["run_id", services.runId],
        ["tcp_port", services.tcpPort],
        ["server_time_usec", nowMs * 1000],
        ["uptime_in_seconds", Math.floor((nowMs - services.startedAtMs) / 1000)],
        ["uptime_in_days", Math.floor((nowMs - services.startedAtMs) / 86_400_000)],
        ["executable", process.execPath],
        ["engine", context.store.engine],
      ]);
    case "clients":
      return lines("Clients", [
        ["connected_clients", services.listClients().length],
        ["blocked_clients", 0],
        ["tracking_clients", 0],
      ]);
    case "memory": {
      const rss = process.memoryUsage();
      return lines("Memory", [
        ["used_memory", storeStats.usedMemoryBytes ?? rss.heapUsed],
        ["used_memory_human", humanBytes(storeStats.usedMemoryBytes ?? rss.heapUsed)],
        ["used_memory_rss", rss.rss],
        ["used_memory_rss_human", humanBytes(rss.rss)],
        ["used_memory_heap", rss.heapUsed],
        ["maxmemory", storeStats.maxMemoryBytes],
        ["maxmemory_human", humanBytes(storeStats.maxMemoryBytes)],
        ["maxmemory_policy", policyName(context)],
        ["mem_accounting", storeStats.usedMemoryBytes === undefined ? "heap" : "per-entry"],
      ]);
    }
    case "persistence":
      return lines("Persistence", [
        ["loading", 0],
        ["aof_enabled", services.persistence.enabled ? 1 : 0],
        ["appendfsync", services.persistence.appendfsync],
        ["rdb_bgsave_in_progress", 0],
        ["engine", context.store.engine],
        ["data_dir", services.persistence.dataDir],
      ]);
    case "stats":
      return lines("Stats", [
        ["total_connections_received", stats.totalConnectionsReceived],
        ["total_commands_processed", stats.totalCommandsProcessed],
        ["total_net_input_bytes", stats.totalNetInputBytes],
        ["total_net_output_bytes", stats.totalNetOutputBytes],
        ["rejected_connections", stats.rejectedConnections],
        ["expired_keys", storeStats.expiredKeys],
        ["evicted_keys", storeStats.evictedKeys],
        ["keyspace_hits", stats.keyspaceHits],
        ["keyspace_misses", stats.keyspaceMisses],
        ["total_error_replies", stats.totalErrorReplies],
      ]);
    case "replication":
      return lines("Replication", [
        ["role", "master"],
        ["connected_slaves", 0],
      ]);
    case "commandstats":
      return lines(
        "Commandstats",
        [...stats.calls.entries()].map(([name, calls]) => [
          `cmdstat_${name.replace("|", "|")}`,
          `calls=${calls}`,
        ]),
      );
    case "storage":
      return lines("Storage", [["engine", context.store.engine], ...storeStats.engine]);
    case "keyspace": {
      const keys = storeStats.keys ?? (await context.store.count());
      const expires = storeStats.keysWithExpiry;
      return lines(
        "Keyspace",
        keys > 0 ? [["db0", `keys=${keys},expires=${expires ?? 0},avg_ttl=0`]] : [],
      );
    }
    default:
      return undefined;
  }
}

function policyName(context: CommandContext): string {
  const entry = context.services.configEntries().find(([name]) => name === "maxmemory-policy");
  return entry?.[1] ?? "noeviction";
}

export function humanBytes(bytes: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

export async function infoCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const requested = args.slice(1).map((arg) => text(arg));
  return verbatim(await buildInfo(context, requested));
}

/** CONFIG GET pattern [pattern ...]: a map in RESP3, a flat array in RESP2. */
export function configGetCommand(context: CommandContext, args: Buffer[]): Reply {
  const entries = context.services.configEntries();
  const matched = new Map<string, string>();
  for (let j = 2; j < args.length; j++) {
    const pattern = Buffer.from(text(args[j]!).toLowerCase(), "latin1");
    for (const [name, value] of entries) {
      if (globMatch(pattern, Buffer.from(name, "latin1"))) matched.set(name, value);
    }
  }
  return map([...matched].map(([name, value]) => [bulk(name), bulk(value)] as const));
}

/** CONFIG SET name value [name value ...]: all-or-nothing per Redis 7 only for validation. */
export function configSetCommand(context: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 !== 0) return wrongArity(context.spec.name);
  const known = new Set(context.services.configEntries().map(([name]) => name));
  for (let j = 2; j < args.length; j += 2) {
    const name = lowerName(args[j]!);
    if (!known.has(name))
      return error(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
  }
  for (let j = 2; j < args.length; j += 2) {
    const name = lowerName(args[j]!);
    const failure = context.services.configSet(name, text(args[j + 1]!));
    if (failure === undefined) continue;
    if (failure.kind === "unknown")
      return error(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
    const reason = failure.kind === "immutable" ? "can't set immutable config" : failure.reason;
    return error(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`);
  }
  return OK;
}

export function configResetstatCommand(context: CommandContext): Reply {
  context.services.stats.reset();
  return OK;
}

export function configHelpCommand(): Reply {
  return array(
    [
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "HELP",
      "    Print this help.",
    ].map((line) => ({ kind: "simple", text: line }) as const),
  );
}

export function timeCommand(context: CommandContext): Reply {
  const micros = BigInt(Math.floor(performance.timeOrigin * 1000 + performance.now() * 1000));
  void context;
  return array([bulk(String(micros / 1_000_000n)), bulk(String(micros % 1_000_000n))]);
}

/** SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: starts a graceful shutdown; no reply, the connection closes. */
export function shutdownCommand(context: CommandContext, args: Buffer[]): Reply {
  for (let j = 1; j < args.length; j++) {
    const opt = args[j]!;
    if (isWord(opt, "ABORT")) return error("ERR No shutdown in progress.");
    if (
      !isWord(opt, "NOSAVE") &&
      !isWord(opt, "SAVE") &&
      !isWord(opt, "NOW") &&
      !isWord(opt, "FORCE")
    ) {
      return SYNTAX_ERROR;
    }
  }
  context.client.closeAfterReply = true;
  context.services.requestShutdown(`SHUTDOWN from client ${context.client.id}`);
  return NO_REPLY;
}
