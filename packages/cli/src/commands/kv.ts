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
import {
  CLUSTER_TUNING_ENV,
  ClusterServer,
  clusterConnectionHelp,
  DEFAULT_CHAOS_OPTIONS,
  DEFAULT_CLUSTER_SETTINGS,
  DEFAULT_LOCAL_CLUSTER_OPTIONS,
  fetchStatus,
  formatChaosReport,
  formatStatus,
  LocalCluster,
  parseHostPort,
  parseTuning,
  requestLeave,
  requestRemove,
  runChaos,
  ShellError,
  setFault,
  UP_DEFAULT_NODES,
} from "@scaleout/kv/cluster-shell";
import { Command } from "commander";
import { CliError } from "../errors.js";
import { choiceOption, integerOption } from "../options.js";

function asCliError(error: unknown): unknown {
  if (error instanceof ConfigError) return new CliError(error.message, 2);
  if (error instanceof KvError) return new CliError(error.message, 1);
  if (error instanceof ShellError) return new CliError(`${error.code}: ${error.message}`, 1);
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
  addClusterNodeOptions(command);
  command.addHelpText(
    "after",
    "\nSettings come from defaults < --config YAML < SCALEOUT_KV_<NAME> environment < flags.",
  );
  return command.action(async (options: Record<string, string | undefined>) => {
    const flags: Record<string, string | undefined> = {};
    for (const [flag, name] of NODE_FLAGS) flags[name] = options[attributeOf(flag)];
    try {
      const config = resolveNodeConfig({ flags, env: process.env, configFile: options.config });
      if (options.cluster !== undefined) {
        await runUntilStopped(ClusterServer.start(config, clusterSettingsFrom(options)));
        return;
      }
      // Signals are handled from before the node listens (see runUntilStopped).
      await runUntilStopped(KvNode.start(config));
    } catch (error) {
      throw asCliError(error);
    }
  });
}

function upCommand(): Command {
  return new Command("up")
    .description(
      "start a local deployment (default: a 3-node cluster of separate processes, data under ./data/<id>; --nodes 1: one lsm node) and print how to connect",
    )
    .option("--data <dir>", "data root", DEFAULT_UP_OPTIONS.dataRoot)
    .option(
      "--nodes <n>",
      "node processes (1 = a single node; 2+ = a cluster, Redis ports --port..--port+n-1, peer ports --peer-port..)",
      integerOption(1, 64),
      UP_DEFAULT_NODES,
    )
    .option("--peer-port <port>", "first node's peer port (cluster)", integerOption(1, 65535), 7101)
    .option("--dcs <n>", "data centers, assigned round-robin (cluster)", integerOption(1, 16), 1)
    .option(
      "--mode <mode>",
      "siblings | lww (cluster)",
      choiceOption(["siblings", "lww"] as const),
      "siblings",
    )
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
      async (options: {
        data: string;
        port: number;
        memcachedPort: number;
        httpPort: number;
        nodes: number;
        peerPort: number;
        dcs: number;
        mode: "siblings" | "lww";
      }) => {
        try {
          if (options.nodes > 1) {
            await runLocalCluster(options);
            return;
          }
          const starting = startLocalDeployment({
            dataRoot: options.data,
            port: options.port,
            memcachedPort: options.memcachedPort,
            httpPort: options.httpPort,
            logLevel: DEFAULT_UP_OPTIONS.logLevel,
          }).then((node) => {
            process.stdout.write(connectionHelp(node));
            return node;
          });
          await runUntilStopped(starting);
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
    .addCommand(upCommand())
    .addCommand(statusCommand())
    .addCommand(leaveCommand())
    .addCommand(removeCommand())
    .addCommand(faultCommand())
    .addCommand(chaosCommand());
}

// --- cluster (issue 9): flags map onto @scaleout/kv/cluster-shell -----------

function addClusterNodeOptions(command: Command): void {
  command
    .option("--cluster", "run as a cluster node (Dynamo-style: N=3 W=2 R=2 by default)")
    .option("--node-id <id>", `cluster node id (default ${DEFAULT_CLUSTER_SETTINGS.nodeId})`)
    .option("--dc <dc>", `data center (default ${DEFAULT_CLUSTER_SETTINGS.dc})`)
    .option("--rack <rack>", `rack (default ${DEFAULT_CLUSTER_SETTINGS.rack})`)
    .option("--weight <n>", "ring weight (virtual nodes ∝ weight, default 1)")
    .option(
      "--peer-port <port>",
      `peer (gossip/replication) port (default ${DEFAULT_CLUSTER_SETTINGS.peerPort})`,
    )
    .option(
      "--advertise-host <host>",
      "host peers and clients use to reach this node (default: --bind)",
    )
    .option("--join <seeds>", "comma-separated host:peerport of existing members")
    .option("--mode <mode>", "siblings (default) | lww");
}

function clusterSettingsFrom(options: Record<string, string | undefined>) {
  const integer = (
    name: string,
    raw: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new CliError(`${name}: must be an integer from ${min} to ${max}`, 2);
    }
    return value;
  };
  const mode = options.mode ?? DEFAULT_CLUSTER_SETTINGS.mode;
  if (mode !== "siblings" && mode !== "lww") throw new CliError("mode: must be siblings or lww", 2);
  const join = (options.join ?? "")
    .split(",")
    .map((seed) => seed.trim())
    .filter((seed) => seed !== "");
  for (const seed of join) {
    try {
      parseHostPort(seed);
    } catch {
      throw new CliError(`join: "${seed}" is not host:port`, 2);
    }
  }
  return {
    ...DEFAULT_CLUSTER_SETTINGS,
    nodeId: options.nodeId ?? DEFAULT_CLUSTER_SETTINGS.nodeId,
    dc: options.dc ?? DEFAULT_CLUSTER_SETTINGS.dc,
    rack: options.rack ?? DEFAULT_CLUSTER_SETTINGS.rack,
    weight: integer("weight", options.weight, 1, 1, 1000),
    peerPort: integer("peer-port", options.peerPort, DEFAULT_CLUSTER_SETTINGS.peerPort, 0, 65535),
    advertiseHost: options.advertiseHost,
    join,
    mode,
    tuning: parseTuning(process.env[CLUSTER_TUNING_ENV]),
  } as const;
}

async function runLocalCluster(options: {
  data: string;
  port: number;
  httpPort: number;
  nodes: number;
  peerPort: number;
  dcs: number;
  mode: "siblings" | "lww";
}): Promise<void> {
  // Handlers go in before the nodes start and before the help names Ctrl-C: a
  // signal in between would otherwise kill `kv up` with the default action and
  // leave its nodes (own process groups) running. One during start stops the
  // cluster once it is up.
  let cluster: LocalCluster | undefined;
  let stopRequested = false;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopRequested = true;
    if (cluster !== undefined) stopping ??= cluster.stop();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    cluster = await LocalCluster.start({
      ...DEFAULT_LOCAL_CLUSTER_OPTIONS,
      cliEntry: process.argv[1]!,
      nodes: options.nodes,
      dataRoot: options.data,
      respPortBase: options.port,
      httpPortBase: options.httpPort,
      peerPortBase: options.peerPort,
      dcs: options.dcs,
      mode: options.mode,
    });
  } catch (error) {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    throw error;
  }
  if (stopRequested) stop();
  else process.stdout.write(clusterConnectionHelp(cluster));
  // A node that dies on its own (not through stop) is reported; the rest keep running.
  for (const node of cluster.nodes) {
    void node.exited.then((code) => {
      if (stopping === undefined)
        process.stderr.write(
          `scaleout kv: ${node.id} exited (code ${code}); see ${node.logFile}\n`,
        );
    });
  }
  await new Promise<void>((resolve) => {
    const wait = () => (stopping === undefined ? setTimeout(wait, 100) : stopping.then(resolve));
    wait();
  });
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  process.stdout.write("scaleout kv: stopped\n");
}

const NODE_OPTION = [
  "--node <host:port>",
  "a node's Redis-protocol address",
  "127.0.0.1:7001",
] as const;

function statusCommand(): Command {
  return new Command("status")
    .description(
      "a cluster node's view: members and health, ring ownership, hint backlog, anti-entropy, transfers",
    )
    .option(...NODE_OPTION)
    .option("--json", "print the raw status JSON")
    .action(async (options: { node: string; json?: boolean }) => {
      try {
        const status = await fetchStatus(options.node);
        process.stdout.write(
          options.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status),
        );
      } catch (error) {
        throw asCliError(error);
      }
    });
}

function leaveCommand(): Command {
  return new Command("leave")
    .description(
      "make a cluster node leave: its partitions stream to their new owners, then it is 'left'",
    )
    .option(...NODE_OPTION)
    .action(async (options: { node: string }) => {
      try {
        await requestLeave(options.node);
        process.stdout.write(`${options.node}: leaving (watch progress with scaleout kv status)\n`);
      } catch (error) {
        throw asCliError(error);
      }
    });
}

function removeCommand(): Command {
  return new Command("remove")
    .description(
      "remove a dead member from the ring (replacement): its ranges re-replicate to the others",
    )
    .option(...NODE_OPTION)
    .requiredOption("--member <id>", "the dead member's node id")
    .action(async (options: { node: string; member: string }) => {
      try {
        await requestRemove(options.node, options.member);
        process.stdout.write(`${options.member}: removed (through ${options.node})\n`);
      } catch (error) {
        throw asCliError(error);
      }
    });
}

function faultCommand(): Command {
  return new Command("fault")
    .description("chaos: make a node drop every peer frame to/from the given members (or heal)")
    .option(...NODE_OPTION)
    .option("--drop <ids>", "comma-separated member ids")
    .option("--heal", "drop nothing")
    .action(async (options: { node: string; drop?: string; heal?: boolean }) => {
      try {
        const drop =
          options.heal === true ? [] : (options.drop ?? "").split(",").filter((id) => id !== "");
        await setFault(options.node, drop);
        process.stdout.write(
          `${options.node}: dropping ${drop.length === 0 ? "nothing" : drop.join(", ")}\n`,
        );
      } catch (error) {
        throw asCliError(error);
      }
    });
}

function chaosCommand(): Command {
  return new Command("chaos")
    .description(
      "fault harness: node processes, concurrent clients, kill -9, SIGSTOP pauses, partitions (transport fault layer); prints writes attempted/acknowledged/lost and time to converge",
    )
    .option("--nodes <n>", "node processes", integerOption(3, 16), DEFAULT_CHAOS_OPTIONS.nodes)
    .option(
      "--clients <n>",
      "concurrent clients",
      integerOption(1, 64),
      DEFAULT_CHAOS_OPTIONS.clients,
    )
    .option(
      "--keys <n>",
      "keys (each a set of elements)",
      integerOption(1, 10_000),
      DEFAULT_CHAOS_OPTIONS.keys,
    )
    .option(
      "--duration <seconds>",
      "time under faults",
      integerOption(5, 3600),
      DEFAULT_CHAOS_OPTIONS.durationMs / 1000,
    )
    .option(
      "--mode <mode>",
      "siblings | lww | both",
      choiceOption(["siblings", "lww", "both"] as const),
      "both",
    )
    .option(
      "--seed <n>",
      "random seed of the workload and the faults",
      integerOption(1),
      DEFAULT_CHAOS_OPTIONS.seed,
    )
    .action(
      async (options: {
        nodes: number;
        clients: number;
        keys: number;
        duration: number;
        mode: "siblings" | "lww" | "both";
        seed: number;
      }) => {
        const modes =
          options.mode === "both" ? (["siblings", "lww"] as const) : ([options.mode] as const);
        let lostInSiblingMode = 0;
        for (const mode of modes) {
          const report = await runChaos({
            ...DEFAULT_CHAOS_OPTIONS,
            cliEntry: process.argv[1]!,
            nodes: options.nodes,
            clients: options.clients,
            keys: options.keys,
            durationMs: options.duration * 1000,
            mode,
            seed: options.seed,
            progress: (message) => process.stderr.write(`chaos: ${message}\n`),
          });
          process.stdout.write(formatChaosReport(report));
          if (mode === "siblings") lostInSiblingMode = report.lost + (report.converged ? 0 : 1);
        }
        if (lostInSiblingMode > 0)
          throw new CliError("sibling mode lost acknowledged writes or did not converge", 1);
      },
    );
}
