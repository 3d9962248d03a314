/**
 * One kv node: one process, one data directory, three listeners (RESP,
 * memcached, HTTP) in front of one command layer and one store.
 *
 *   RespServer ─┐
 *   HTTP ───────┼─> CommandDispatcher ─> CommandScheduler ─> KeyValueStore (memory | lsm)
 *   memcached ──┘   (table, arity, auth)   (per-key locks)      (the storage seam)
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { CommandDispatcher } from "./commands/dispatcher.js";
import { CommandScheduler, ImmediateScheduler, type Scheduler } from "./commands/scheduler.js";
import { buildInfo } from "./commands/server.js";
import { type ConfigSetError, type NodeServices, ServerStats } from "./commands/services.js";
import { COMMANDS } from "./commands/table.js";
import type { ClientState } from "./commands/types.js";
import { ConfigError, KV_ERROR_CODES, KvError } from "./errors.js";
import { ACTIVE_EXPIRE_INTERVAL_MS, SHUTDOWN_DRAIN_TIMEOUT_MS } from "./limits.js";
import { MemcachedServer } from "./memcached/server.js";
import { type NodeConfig, parseSetting } from "./server/config.js";
import { createHttpServer, parseInfo } from "./server/http.js";
import { createMetrics } from "./server/metrics.js";
import { RespServer } from "./server/resp-server.js";
import { LsmStore } from "./storage/lsm.js";
import { MemoryStore, toKey } from "./storage/memory.js";
import type { KeyValueStore } from "./storage/store.js";

export interface NodePorts {
  resp: number;
  memcached: number | undefined;
  http: number | undefined;
}

export interface StartNodeOptions {
  logger?: Logger;
  /**
   * A store to serve instead of opening `config.engine` (the storage seam: a
   * cluster coordinator implementing KeyValueStore plugs in here). It is
   * treated as asynchronous, so commands run under per-key locks.
   */
  store?: KeyValueStore;
}

/** CONFIG SET can change these at run time; the rest are fixed at start. */
const MUTABLE_SETTINGS: readonly (keyof NodeConfig)[] = [
  "maxMemoryBytes",
  "eviction",
  "requirePass",
  "idleTimeoutSeconds",
  "maxClients",
  "outputBufferLimitBytes",
];

export class KvNode {
  private shutdownPromise: Promise<void> | undefined;
  private ready = false;
  private expireTimer: NodeJS.Timeout | undefined;
  private expireRunning = false;
  private resolveClosed!: () => void;
  /** Resolves once the node has shut down (SHUTDOWN, SIGTERM or close()). */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  private constructor(
    readonly config: NodeConfig,
    readonly store: KeyValueStore,
    readonly scheduler: Scheduler,
    readonly dispatcher: CommandDispatcher,
    readonly resp: RespServer,
    private readonly keyLocks: CommandScheduler,
    readonly memcached: MemcachedServer | undefined,
    readonly http: FastifyInstance | undefined,
    readonly ports: NodePorts,
    readonly logger: Logger,
  ) {}

  static async start(config: NodeConfig, options: StartNodeOptions = {}): Promise<KvNode> {
    const logger =
      options.logger ?? pino({ level: config.logLevel, base: { service: "scaleout-kv" } });
    // Per-key locks for the asynchronous lsm engine; none for the memory
    // engine (see ImmediateScheduler for why that is sound). memcached
    // connections start pipelined commands together, so they always lock.
    const keyLocks = new CommandScheduler();
    const scheduler: Scheduler =
      options.store === undefined && config.engine === "memory"
        ? new ImmediateScheduler()
        : keyLocks;
    const store = options.store ?? (await openStore(config, keyLocks, logger));
    const stats = new ServerStats();
    const startedAtMs = Date.now();
    const runId = randomBytes(20).toString("hex");
    // The services object needs the node (shutdown, clients); it is bound once the node exists.
    let node: KvNode | undefined;
    let respServer: RespServer | undefined;
    const services: NodeServices = {
      stats,
      startedAtMs,
      runId,
      get tcpPort() {
        return node?.ports.resp ?? config.port;
      },
      get requirePass() {
        return config.requirePass;
      },
      maxKeyBytes: config.maxKeyBytes,
      maxBulkBytes: config.maxBulkBytes,
      persistence: {
        enabled: config.engine === "lsm",
        appendfsync: config.engine === "lsm" ? config.appendfsync : "no",
        dataDir: config.engine === "lsm" ? config.dataDir : "",
      },
      listClients: (): readonly ClientState[] => respServer?.clients ?? [],
      configEntries: () => configEntries(config),
      configSet: (name, value) => applyConfigSet(config, store, respServer, name, value),
      requestShutdown: (reason) => {
        void node?.close(reason);
      },
    };
    const dispatcher = new CommandDispatcher(store, services, scheduler, logger);
    respServer = new RespServer(
      dispatcher,
      {
        get maxClients() {
          return config.maxClients;
        },
        get idleTimeoutSeconds() {
          return config.idleTimeoutSeconds;
        },
        get outputBufferLimitBytes() {
          return config.outputBufferLimitBytes;
        },
        maxBulkBytes: config.maxBulkBytes,
        queryBufferLimitBytes: config.queryBufferLimitBytes,
        get requirePass() {
          return config.requirePass;
        },
      },
      stats,
      logger,
    );
    let memcached: MemcachedServer | undefined;
    let http: FastifyInstance | undefined;
    const ports: NodePorts = { resp: 0, memcached: undefined, http: undefined };
    try {
      ports.resp = await respServer.listen(config.port, config.bind);
      if (config.memcachedPort !== 0) {
        memcached = new MemcachedServer(
          store,
          keyLocks,
          logger,
          config.outputBufferLimitBytes,
          config.maxClients,
          stats,
          () => config.idleTimeoutSeconds,
        );
        ports.memcached = await memcached.listen(config.memcachedPort, config.bind);
      }
      if (config.httpPort !== 0) {
        const registry = createMetrics(store, stats, () => respServer?.clients.length ?? 0);
        const infoClient = { ...respServer.clients[0] } as ClientState;
        http = createHttpServer({
          dispatcher,
          registry,
          requirePass: config.requirePass,
          isReady: () => node?.isReady ?? false,
          info: () =>
            buildInfo(
              {
                store,
                services,
                client: infoClient,
                nowMs: Date.now(),
                spec: COMMANDS.get("info")!,
              },
              ["all"],
            ),
        });
        await http.listen({ port: config.httpPort, host: config.bind });
        const address = http.server.address();
        ports.http =
          typeof address === "object" && address !== null ? address.port : config.httpPort;
      }
    } catch (cause) {
      await respServer.close().catch(() => {});
      await memcached?.close().catch(() => {});
      await http?.close().catch(() => {});
      await store.close();
      throw new KvError(KV_ERROR_CODES.LISTEN, `cannot listen: ${(cause as Error).message}`, {
        cause,
      });
    }
    node = new KvNode(
      config,
      store,
      scheduler,
      dispatcher,
      respServer,
      keyLocks,
      memcached,
      http,
      ports,
      logger,
    );
    node.startExpiryCycle();
    node.ready = true;
    logger.info(
      {
        engine: config.engine,
        bind: config.bind,
        ports,
        dataDir: config.engine === "lsm" ? config.dataDir : undefined,
      },
      "kv node ready",
    );
    return node;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** INFO as parsed sections (the /info endpoint and `scaleout kv` use it). */
  async info(): Promise<Record<string, Record<string, string>>> {
    const response = await this.dispatcher.execute({ ...internalClient }, [
      Buffer.from("INFO"),
      Buffer.from("all"),
    ]);
    return response.kind === "verbatim" ? parseInfo(response.text) : {};
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight commands finish and
   * their replies go out, flush and close the store. Idempotent.
   */
  close(reason = "close"): Promise<void> {
    if (this.shutdownPromise !== undefined) return this.shutdownPromise;
    this.ready = false;
    this.logger.info({ reason }, "kv node shutting down");
    this.shutdownPromise = (async () => {
      if (this.expireTimer !== undefined) clearInterval(this.expireTimer);
      const drained = Promise.all([this.resp.close(), this.memcached?.close(), this.http?.close()]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), SHUTDOWN_DRAIN_TIMEOUT_MS);
      });
      if ((await Promise.race([drained, timeout])) === "timeout") {
        this.logger.warn(
          { timeoutMs: SHUTDOWN_DRAIN_TIMEOUT_MS },
          "clients did not drain in time; closing them",
        );
        this.resp.destroyAll();
        this.memcached?.destroyAll();
      }
      clearTimeout(timer);
      await this.scheduler.drained();
      await this.keyLocks.drained();
      while (this.expireRunning) await new Promise((resolve) => setTimeout(resolve, 5));
      await this.store.close();
      this.logger.info({}, "kv node stopped");
      this.resolveClosed();
    })();
    return this.shutdownPromise;
  }

  private startExpiryCycle(): void {
    this.expireTimer = setInterval(() => {
      if (this.expireRunning || !this.ready) return;
      this.expireRunning = true;
      Promise.resolve(this.store.activeExpireCycle())
        .catch((cause: unknown) => this.logger.error({ err: cause }, "active expiry failed"))
        .finally(() => {
          this.expireRunning = false;
        });
    }, ACTIVE_EXPIRE_INTERVAL_MS);
    this.expireTimer.unref();
  }
}

const internalClient: ClientState = {
  id: 0,
  name: "internal",
  libraryName: undefined,
  libraryVersion: undefined,
  protocol: 2,
  authenticated: true,
  remoteAddress: "internal",
  localAddress: "internal",
  createdAtMs: 0,
  lastInteractionMs: 0,
  lastCommand: "NULL",
  closeAfterReply: false,
  queryBufferBytes: () => 0,
  outputBufferBytes: () => 0,
  kill: () => {},
};

async function openStore(
  config: NodeConfig,
  scheduler: CommandScheduler,
  logger: Logger,
): Promise<KeyValueStore> {
  if (config.engine === "memory") {
    return new MemoryStore({ maxMemoryBytes: config.maxMemoryBytes, eviction: config.eviction });
  }
  try {
    mkdirSync(config.dataDir, { recursive: true });
    return await LsmStore.open({
      dataDir: config.dataDir,
      appendfsync: config.appendfsync,
      memtableSizeBytes: config.memtableSizeBytes,
      blockCacheSizeBytes: config.blockCacheSizeBytes,
      rowCacheSizeBytes: config.rowCacheSizeBytes,
      logger: logger.child({ component: "lsm" }),
      withKeyLock: (key, task) =>
        Promise.resolve(scheduler.run({ kind: "keys", keys: [toKey(key)] }, task)),
    });
  } catch (cause) {
    throw new KvError(
      KV_ERROR_CODES.ENGINE,
      `cannot open the lsm engine in ${config.dataDir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/** CONFIG GET view, Redis names and formats. */
function configEntries(config: NodeConfig): [string, string][] {
  return [
    ["bind", config.bind],
    ["port", String(config.port)],
    ["memcached-port", String(config.memcachedPort)],
    ["http-port", String(config.httpPort)],
    ["dir", config.dataDir],
    ["engine", config.engine],
    ["maxmemory", String(config.maxMemoryBytes)],
    [
      "maxmemory-policy",
      config.eviction === "noeviction"
        ? "noeviction"
        : config.eviction === "fifo"
          ? "fifo"
          : `allkeys-${config.eviction}`,
    ],
    ["requirepass", config.requirePass ?? ""],
    ["appendonly", config.engine === "lsm" ? "yes" : "no"],
    ["appendfsync", config.appendfsync],
    ["save", ""],
    ["databases", "1"],
    ["timeout", String(config.idleTimeoutSeconds)],
    ["maxclients", String(config.maxClients)],
    ["proto-max-bulk-len", String(config.maxBulkBytes)],
    ["client-query-buffer-limit", String(config.queryBufferLimitBytes)],
    [
      "client-output-buffer-limit",
      `normal ${config.outputBufferLimitBytes} ${config.outputBufferLimitBytes} 0`,
    ],
    ["max-key-bytes", String(config.maxKeyBytes)],
  ];
}

const CONFIG_SET_KEYS: Record<string, keyof NodeConfig> = {
  maxmemory: "maxMemoryBytes",
  "maxmemory-policy": "eviction",
  requirepass: "requirePass",
  timeout: "idleTimeoutSeconds",
  maxclients: "maxClients",
  "client-output-buffer-limit": "outputBufferLimitBytes",
};

function applyConfigSet(
  config: NodeConfig,
  store: KeyValueStore,
  _resp: RespServer | undefined,
  name: string,
  value: string,
): ConfigSetError | undefined {
  const key = CONFIG_SET_KEYS[name];
  if (key === undefined) {
    return configEntries(config).some(([entry]) => entry === name)
      ? { kind: "immutable" }
      : { kind: "unknown" };
  }
  if (!MUTABLE_SETTINGS.includes(key)) return { kind: "immutable" };
  let raw = value;
  // Redis's form "normal <hard> <soft> <seconds>": we honour the hard limit.
  if (key === "outputBufferLimitBytes") raw = value.trim().split(/\s+/)[1] ?? value;
  try {
    const parsed = parseSetting(key, raw);
    if (key === "maxMemoryBytes" && store instanceof LsmStore && parsed !== 0) {
      return { kind: "invalid", reason: "maxmemory applies to the memory engine only" };
    }
    (config as unknown as Record<string, unknown>)[key] = parsed;
    if (store instanceof MemoryStore) {
      if (key === "maxMemoryBytes") store.maxMemoryBytes = parsed as number;
      if (key === "eviction") store.setEvictionPolicy(parsed as NodeConfig["eviction"]);
    }
    return undefined;
  } catch (cause) {
    if (cause instanceof ConfigError)
      return { kind: "invalid", reason: cause.message.slice(cause.field.length + 2) };
    throw cause;
  }
}
