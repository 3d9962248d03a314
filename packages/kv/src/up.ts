/**
 * `scaleout kv up --nodes 1`: a single local node with the lsm engine, data
 * under ./data/n1, and instructions for connecting. With more nodes (the
 * default, 3) `kv up` starts a cluster instead (cluster-shell/local-cluster.ts).
 */
import { resolve } from "node:path";
import { KvNode } from "./node.js";
import { DEFAULT_NODE_CONFIG, type NodeConfig } from "./server/config.js";

export interface UpOptions {
  dataRoot: string;
  port: number;
  memcachedPort: number;
  httpPort: number;
  logLevel: NodeConfig["logLevel"];
}

export const DEFAULT_UP_OPTIONS: UpOptions = {
  dataRoot: "./data",
  port: DEFAULT_NODE_CONFIG.port,
  memcachedPort: DEFAULT_NODE_CONFIG.memcachedPort,
  httpPort: DEFAULT_NODE_CONFIG.httpPort,
  logLevel: "warn",
};

export async function startLocalDeployment(options: UpOptions): Promise<KvNode> {
  const config: NodeConfig = {
    ...DEFAULT_NODE_CONFIG,
    engine: "lsm",
    dataDir: resolve(options.dataRoot, "n1"),
    port: options.port,
    memcachedPort: options.memcachedPort,
    httpPort: options.httpPort,
    logLevel: options.logLevel,
  };
  return KvNode.start(config);
}

/** The text `kv up` prints once the node is ready. */
export function connectionHelp(node: KvNode): string {
  const { bind } = node.config;
  const { resp, memcached, http } = node.ports;
  const lines = [
    `scaleout kv: 1 node (engine lsm, appendfsync ${node.config.appendfsync}, data in ${node.config.dataDir})`,
    "",
    `  Redis protocol  redis-cli -h ${bind} -p ${resp}`,
    `                  new Redis({ host: "${bind}", port: ${resp} })   // ioredis`,
  ];
  if (memcached !== undefined)
    lines.push(`  memcached       printf 'get k\\r\\n' | nc ${bind} ${memcached}`);
  if (http !== undefined) {
    lines.push(
      `  HTTP            curl -X PUT --data-binary hello http://${bind}:${http}/kv/greeting`,
    );
    lines.push(
      `                  curl http://${bind}:${http}/kv/greeting   (also /healthz /readyz /metrics /info)`,
    );
  }
  lines.push("", "Press Ctrl-C to stop (the node flushes and exits cleanly).");
  return `${lines.join("\n")}\n`;
}

/** What `runUntilStopped` needs of a server: a graceful close and its end. */
export interface StoppableServer {
  close(reason?: string): Promise<void>;
  readonly closed: Promise<void>;
}

/**
 * Shuts a server down gracefully on SIGTERM / SIGINT (a second signal exits
 * at once) and resolves when it has stopped. Pass the server while it is
 * still starting: the handlers go in first, so a signal that arrives while
 * it starts (its ports may already accept connections) closes it right after
 * start instead of killing the process with the signal's default action.
 */
export async function runUntilStopped(
  starting: StoppableServer | Promise<StoppableServer>,
): Promise<void> {
  let signalled: NodeJS.Signals | undefined;
  let server: StoppableServer | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) process.exit(130);
    signalled = signal;
    if (server !== undefined) void server.close(signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    server = await starting;
    if (signalled !== undefined) void server.close(signalled);
    await server.closed;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
