/**
 * A local cluster of separate node processes (`scaleout kv up --nodes N`, the
 * chaos harness, the real-process tests). Node i (1-based) is `n<i>` with
 * data under <dataRoot>/n<i>, its log in <dataRoot>/n<i>.log, Redis-protocol
 * port respPortBase+i-1, HTTP httpPortBase+i-1, peer port peerPortBase+i-1
 * (a base of 0 picks free ports). All start at once; the others join through n1.
 * Data centers are assigned round-robin (`dcs`), racks per node.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConflictMode } from "../cluster/index.js";
import { NODE_PROCESS_FLAGS } from "../limits.js";
import {
  UP_HTTP_PORT_BASE,
  UP_PEER_PORT_BASE,
  UP_READY_TIMEOUT_MS,
  UP_RESP_PORT_BASE,
  UP_STOP_TIMEOUT_MS,
} from "./constants.js";
import { ShellError, ShellErrorCode } from "./errors.js";
import { RespClient } from "./resp-client.js";
import { freePort } from "./server.js";

export interface LocalClusterOptions {
  readonly nodes: number;
  readonly dataRoot: string;
  /** The scaleout CLI's entry script (packages/cli/dist/main.js). */
  readonly cliEntry: string;
  readonly bind: string;
  /** 0 = free ports. */
  readonly respPortBase: number;
  readonly httpPortBase: number;
  readonly peerPortBase: number;
  readonly dcs: number;
  readonly mode: ConflictMode;
  readonly appendfsync: "always" | "everysec" | "no";
  readonly logLevel: string;
  /** Extra environment for the node processes (e.g. tuning for tests). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for a node to answer (default UP_READY_TIMEOUT_MS; restoring 1 M keys takes longer). */
  readonly readyTimeoutMs?: number;
}

export const DEFAULT_LOCAL_CLUSTER_OPTIONS: Omit<LocalClusterOptions, "cliEntry"> = {
  nodes: 3,
  dataRoot: "./data",
  bind: "127.0.0.1",
  respPortBase: UP_RESP_PORT_BASE,
  httpPortBase: UP_HTTP_PORT_BASE,
  peerPortBase: UP_PEER_PORT_BASE,
  dcs: 1,
  mode: "siblings",
  appendfsync: "everysec",
  logLevel: "info",
};

export interface LocalNode {
  readonly id: string;
  readonly dc: string;
  readonly respPort: number;
  readonly httpPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly args: readonly string[];
  process: ChildProcess | null;
  exited: Promise<number | null>;
}

export class LocalCluster {
  private constructor(
    readonly options: LocalClusterOptions,
    readonly nodes: LocalNode[],
  ) {}

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = new LocalCluster(options, []);
    try {
      // All processes start at once: the others keep probing n1's peer port
      // until it answers (JOIN_RETRY_MS), which is quicker than starting in turn.
      for (let i = 1; i <= options.nodes; i++) await cluster.addNode("defer");
      await Promise.all(cluster.nodes.map((node) => cluster.waitReady(node)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  node(id: string): LocalNode {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new ShellError(ShellErrorCode.CLIENT, `no node ${id}`);
    return node;
  }

  /**
   * Start one more node joining through the first node (how a 4th node is
   * added). "wait": resolve once it answers PING; "defer": return at once.
   */
  async addNode(wait: "wait" | "defer" = "wait"): Promise<LocalNode> {
    const options = this.options;
    const index = this.nodes.length + 1;
    const id = `n${index}`;
    const port = async (base: number) => (base === 0 ? freePort(options.bind) : base + index - 1);
    const respPort = await port(options.respPortBase);
    const httpPort = await port(options.httpPortBase);
    const peerPort = await port(options.peerPortBase);
    const dc = `dc${((index - 1) % Math.max(1, options.dcs)) + 1}`;
    const dataRoot = resolve(options.dataRoot);
    const dataDir = join(dataRoot, id);
    mkdirSync(dataDir, { recursive: true });
    const first = this.nodes[0];
    const args = [
      options.cliEntry,
      "kv",
      "node",
      "--cluster",
      "--node-id",
      id,
      "--dc",
      dc,
      "--rack",
      `r${index}`,
      "--bind",
      options.bind,
      "--port",
      String(respPort),
      "--http-port",
      String(httpPort),
      "--peer-port",
      String(peerPort),
      "--data-dir",
      dataDir,
      "--appendfsync",
      options.appendfsync,
      "--mode",
      options.mode,
      "--log-level",
      options.logLevel,
      ...(first === undefined ? [] : ["--join", `${options.bind}:${first.peerPort}`]),
    ];
    const node: LocalNode = {
      id,
      dc,
      respPort,
      httpPort,
      peerPort,
      dataDir,
      logFile: join(dataRoot, `${id}.log`),
      args,
      process: null,
      exited: Promise.resolve(null),
    };
    this.nodes.push(node);
    this.spawn(node);
    if (wait === "wait") await this.waitReady(node);
    return node;
  }

  /** (Re)start a node's process with its original arguments (after kill -9). */
  async restart(id: string): Promise<void> {
    const node = this.node(id);
    if (node.process !== null) throw new ShellError(ShellErrorCode.CLIENT, `${id} is running`);
    this.spawn(node);
    await this.waitReady(node);
  }

  /** Send a signal (SIGKILL, SIGSTOP, SIGCONT, SIGTERM) to a node's process. */
  signal(id: string, signal: NodeJS.Signals): void {
    this.node(id).process?.kill(signal);
  }

  /** kill -9 and wait for the exit. */
  async kill(id: string): Promise<void> {
    const node = this.node(id);
    node.process?.kill("SIGKILL");
    await node.exited;
  }

  /** SIGTERM every node, wait (SIGCONT first, in case one is paused), SIGKILL stragglers. */
  async stop(): Promise<void> {
    const running = this.nodes.filter((node) => node.process !== null);
    for (const node of running) {
      node.process?.kill("SIGCONT");
      node.process?.kill("SIGTERM");
    }
    const timer = setTimeout(() => {
      for (const node of running) node.process?.kill("SIGKILL");
    }, UP_STOP_TIMEOUT_MS);
    await Promise.all(running.map((node) => node.exited));
    clearTimeout(timer);
  }

  private spawn(node: LocalNode): void {
    const log = openSync(node.logFile, "a");
    const child = spawn(process.execPath, [...NODE_PROCESS_FLAGS, ...node.args], {
      stdio: ["ignore", log, log],
      // Own process group: a terminal's Ctrl-C reaches only `kv up`, which then
      // stops the nodes with one SIGTERM each (a second signal would skip the flush).
      detached: true,
      env: { ...process.env, ...this.options.env },
    });
    closeSync(log);
    node.process = child;
    node.exited = new Promise((resolveExit) => {
      child.once("exit", (code) => {
        node.process = null;
        resolveExit(code);
      });
    });
  }

  private async waitReady(node: LocalNode): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? UP_READY_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (node.process === null) {
        throw new ShellError(
          ShellErrorCode.CLIENT,
          `node ${node.id} exited during start (see ${node.logFile})`,
        );
      }
      try {
        const client = await RespClient.connect(this.options.bind, node.respPort, 1_000);
        try {
          await client.command(["PING"]);
          return;
        } finally {
          client.close();
        }
      } catch {
        if (Date.now() > deadline) {
          throw new ShellError(
            ShellErrorCode.CLIENT,
            `node ${node.id} not ready after ${timeoutMs / 1000} s (see ${node.logFile})`,
          );
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      }
    }
  }
}

/** What `scaleout kv up --nodes N` prints once every node answers. */
export function clusterConnectionHelp(cluster: LocalCluster): string {
  const { bind } = cluster.options;
  const first = cluster.nodes[0]!;
  const lines = [
    `scaleout kv: ${cluster.nodes.length}-node cluster (N=3 W=2 R=2, mode ${cluster.options.mode}, data under ${resolve(cluster.options.dataRoot)})`,
    "",
  ];
  for (const node of cluster.nodes) {
    lines.push(
      `  ${node.id} (${node.dc})  redis-cli -p ${node.respPort}    http://${bind}:${node.httpPort}    peer ${node.peerPort}    log ${node.logFile}`,
    );
  }
  lines.push(
    "",
    `  redis-cli -h ${bind} -p ${first.respPort} SET greeting hello     # any node coordinates any key`,
    `  redis-cli -h ${bind} -p ${cluster.nodes.at(-1)!.respPort} GET greeting`,
    `  redis-cli -p ${first.respPort} KV.GET greeting                  # context + all siblings`,
    `  curl -i http://${bind}:${first.httpPort}/kv/greeting               # 300 Multiple Choices on siblings`,
    `  scaleout kv status --node ${bind}:${first.respPort}`,
    "",
    "Press Ctrl-C to stop every node (each flushes and exits cleanly).",
  );
  return `${lines.join("\n")}\n`;
}
