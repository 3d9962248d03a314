/**
 * ClusterServer: one cluster node process — the ClusterDriver (core + peer
 * transport + lsm persistence) behind the node's own RESP server (through
 * ClusterCommandDispatcher) and the cluster HTTP API. The single-node KvNode is
 * not involved: its RespServer and command table are reused, its store is not
 * (the cluster's data lives in the driver's engine under --data-dir).
 * The memcached protocol is not served in cluster mode.
 */
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { type ConflictMode, DEFAULT_TUNING, type NodeTuning } from "../cluster/index.js";
import { type NodeServices, ServerStats } from "../commands/services.js";
import type { ClientState } from "../commands/types.js";
import { SHUTDOWN_DRAIN_TIMEOUT_MS } from "../limits.js";
import type { NodeConfig } from "../server/config.js";
import { RespServer } from "../server/resp-server.js";
import { MemoryStore } from "../storage/memory.js";
import { formatMemberAddress } from "./address.js";
import { ClusterCommandDispatcher } from "./commands.js";
import { ClusterDriver } from "./driver.js";
import { ShellError, ShellErrorCode } from "./errors.js";
import { createClusterHttpServer } from "./http.js";

export interface ClusterSettings {
  readonly nodeId: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
  /** 0 = any free port (tests). */
  readonly peerPort: number;
  /** Host other nodes and clients use to reach this one (default: the bind address). */
  readonly advertiseHost: string | undefined;
  /** Seed peer addresses, host:peerPort. */
  readonly join: readonly string[];
  readonly mode: ConflictMode;
  readonly tuning?: Partial<NodeTuning>;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = {
  nodeId: "n1",
  dc: "dc1",
  rack: "r1",
  weight: 1,
  peerPort: 7101,
  advertiseHost: undefined,
  join: [],
  mode: "siblings",
};

export interface ClusterPorts {
  resp: number;
  http: number | undefined;
  peer: number;
}

export class ClusterServer {
  private shutdown: Promise<void> | undefined;
  private ready = false;
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  private constructor(
    readonly config: NodeConfig,
    readonly settings: ClusterSettings,
    readonly driver: ClusterDriver,
    readonly resp: RespServer,
    readonly http: FastifyInstance | undefined,
    readonly ports: ClusterPorts,
    readonly logger: Logger,
  ) {}

  static async start(
    config: NodeConfig,
    settings: ClusterSettings,
    options: { logger?: Logger } = {},
  ): Promise<ClusterServer> {
    const logger =
      options.logger ??
      pino({ level: config.logLevel, base: { service: "scaleout-kv", node: settings.nodeId } });
    // Ports must be known before the address is gossiped: bind the client
    // listeners first (port 0 → the kernel's choice), then start the driver.
    const stats = new ServerStats();
    const store = new MemoryStore({ maxMemoryBytes: 0, eviction: "noeviction" });
    let server: ClusterServer | undefined;
    let respServer: RespServer | undefined;
    const services: NodeServices = {
      stats,
      startedAtMs: Date.now(),
      runId: randomBytes(20).toString("hex"),
      get tcpPort() {
        return server?.ports.resp ?? config.port;
      },
      requirePass: config.requirePass,
      maxKeyBytes: config.maxKeyBytes,
      maxBulkBytes: config.maxBulkBytes,
      persistence: { enabled: true, appendfsync: config.appendfsync, dataDir: config.dataDir },
      listClients: (): readonly ClientState[] => respServer?.clients ?? [],
      configEntries: () => [
        ["bind", config.bind],
        ["port", String(config.port)],
        ["dir", config.dataDir],
        ["appendfsync", config.appendfsync],
        ["cluster-node-id", settings.nodeId],
        ["cluster-mode", settings.mode],
      ],
      configSet: () => ({ kind: "immutable" }),
      requestShutdown: (reason) => {
        void server?.close(reason);
      },
    };
    const respPort = config.port === 0 ? await freePort(config.bind) : config.port;
    const httpPort = config.httpPort === 0 ? undefined : config.httpPort;
    const peerPort = settings.peerPort === 0 ? await freePort(config.bind) : settings.peerPort;
    const host = settings.advertiseHost ?? config.bind;
    const driver = await ClusterDriver.start({
      id: settings.nodeId,
      dc: settings.dc,
      rack: settings.rack,
      weight: settings.weight,
      address: formatMemberAddress({ host, peerPort, respPort, httpPort: httpPort ?? 0 }),
      bind: config.bind,
      peerPort,
      dataDir: config.dataDir,
      syncPolicy: config.appendfsync === "no" ? "never" : config.appendfsync,
      join: settings.join,
      mode: settings.mode,
      logger: logger.child({ component: "cluster" }),
      ...(settings.tuning === undefined ? {} : { tuning: settings.tuning }),
    });
    const dispatcher = new ClusterCommandDispatcher(store, services, logger, driver);
    respServer = new RespServer(
      dispatcher,
      {
        maxClients: config.maxClients,
        idleTimeoutSeconds: config.idleTimeoutSeconds,
        outputBufferLimitBytes: config.outputBufferLimitBytes,
        maxBulkBytes: config.maxBulkBytes,
        queryBufferLimitBytes: config.queryBufferLimitBytes,
        requirePass: config.requirePass,
      },
      stats,
      logger,
    );
    let http: FastifyInstance | undefined;
    try {
      await respServer.listen(respPort, config.bind);
      if (httpPort !== undefined) {
        http = createClusterHttpServer({
          driver,
          requirePass: config.requirePass,
          isReady: () => server?.ready ?? false,
        });
        await http.listen({ port: httpPort, host: config.bind });
      }
    } catch (error) {
      await respServer.close().catch(() => {});
      await http?.close().catch(() => {});
      await driver.close();
      throw error;
    }
    server = new ClusterServer(
      config,
      settings,
      driver,
      respServer,
      http,
      { resp: respPort, http: httpPort, peer: peerPort },
      logger,
    );
    server.ready = true;
    logger.info(
      { id: settings.nodeId, ports: server.ports, dataDir: config.dataDir, mode: settings.mode },
      "kv cluster node ready",
    );
    return server;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Graceful: stop accepting, drain clients, stop the driver (flushes the engine). */
  close(reason = "close"): Promise<void> {
    if (this.shutdown !== undefined) return this.shutdown;
    this.ready = false;
    this.logger.info({ reason }, "kv cluster node shutting down");
    this.shutdown = (async () => {
      const drained = Promise.all([this.resp.close(), this.http?.close()]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), SHUTDOWN_DRAIN_TIMEOUT_MS);
      });
      if ((await Promise.race([drained, timeout])) === "timeout") this.resp.destroyAll();
      clearTimeout(timer);
      await this.driver.close();
      this.logger.info({}, "kv cluster node stopped");
      this.resolveClosed();
    })();
    return this.shutdown;
  }
}

/** Environment variable with core tunables as JSON (tests, chaos runs, experiments). */
export const CLUSTER_TUNING_ENV = "SCALEOUT_KV_CLUSTER_TUNING";

/**
 * Parse `{"antiEntropyIntervalMs": 20, "gossip": {"suspectAfterMs": 500}}`:
 * only known NodeTuning names with numeric values (gossip: an object of numbers).
 */
export function parseTuning(text: string | undefined): Partial<NodeTuning> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const bad = (why: string) =>
    new ShellError(ShellErrorCode.CLUSTER_CONFIG, `${CLUSTER_TUNING_ENV}: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw bad("not an object");
  for (const [name, value] of Object.entries(parsed)) {
    if (!(name in DEFAULT_TUNING)) throw bad(`unknown tunable "${name}"`);
    const numbers = typeof value === "object" && value !== null ? Object.values(value) : [value];
    if (!numbers.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0)) {
      throw bad(`"${name}" must be a non-negative number (or an object of them)`);
    }
  }
  return parsed as Partial<NodeTuning>;
}

/** A free TCP port on `host` (bind to 0, read, close). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
