/**
 * The stand-alone rate limit service: rules (hot-reloaded) evaluated by a
 * RuleEngine over a guarded store (Redis or memory), answered over HTTP/JSON
 * (`POST /v1/check`) and envoy's gRPC RateLimitService, with `/healthz`,
 * `/readyz`, `/metrics` and `/debug/rules` on the HTTP port.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Cluster, Redis } from "ioredis";
import { type Logger, pino } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { isRateLimitError, RateLimitError } from "../errors.js";
import { RateLimitMetrics } from "../metrics.js";
import { RuleEngine } from "../rules/engine.js";
import { OverLimitCache } from "../rules/over-limit-cache.js";
import { RuleWatcher } from "../rules/watcher.js";
import { GuardedStore, type StoreFailureEvent } from "../stores/guarded-store.js";
import { MemoryStore } from "../stores/memory-store.js";
import { RedisStore } from "../stores/redis-store.js";
import type { RateLimitStore } from "../stores/store.js";
import type { ServiceConfig } from "./config.js";
import { checkRequestFromWire, checkResponseToJson, checkResponseToProto } from "./wire.js";

/** The proto files shipped with the package (a faithful subset of envoy's). */
export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "proto");
export const RLS_PROTO_FILE = "envoy/service/ratelimit/v3/rls.proto";
/** Bounds on gRPC messages, like the HTTP body limit. */
const GRPC_MESSAGE_BYTES_MAX = 1024 * 1024;
/** Concurrent calls per gRPC connection: envoy multiplexes many on one. */
const GRPC_CONCURRENT_STREAMS_MAX = 1000;
/** A client gets this long to send its headers, and its whole request: slow senders cannot pin sockets. */
const HTTP_HEADERS_TIMEOUT_MS = 10_000;
const HTTP_REQUEST_TIMEOUT_MS = 15_000;

export interface RateLimitService {
  httpPort: number;
  grpcPort: number;
  engine: RuleEngine;
  watcher: RuleWatcher;
  store: GuardedStore;
  registry: Registry;
  logger: Logger;
  /** Stops accepting, drains in-flight calls (up to shutdownTimeoutMs), closes the store. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  logger?: Logger;
}

export function loadRlsProto(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(RLS_PROTO_FILE, {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

/**
 * envoy.service.ratelimit.v3.RateLimitService from the shipped proto: a gRPC
 * client constructor whose `service` is the definition the server adds.
 */
export function loadRlsService(): grpc.ServiceClientConstructor {
  const envoy = loadRlsProto().envoy as grpc.GrpcObject;
  const v3 = ((envoy.service as grpc.GrpcObject).ratelimit as grpc.GrpcObject)
    .v3 as grpc.GrpcObject;
  return v3.RateLimitService as grpc.ServiceClientConstructor;
}

function createStore(
  config: ServiceConfig,
  logger: Logger,
): { store: RateLimitStore; redis: Redis | Cluster | undefined } {
  if (config.redisCluster !== "") {
    const nodes = config.redisCluster.split(",").map((node) => {
      const [host, port] = node.trim().split(":");
      return { host: host ?? "127.0.0.1", port: Number(port ?? 6379) };
    });
    const cluster = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    cluster.on("error", (error: Error) =>
      logger.warn({ err: error.message }, "redis cluster error"),
    );
    return { store: new RedisStore({ client: cluster, prefix: config.keyPrefix }), redis: cluster };
  }
  if (config.redisUrl !== "") {
    const client = new Redis(config.redisUrl, {
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
    });
    client.on("error", (error: Error) => logger.warn({ err: error.message }, "redis error"));
    return { store: new RedisStore({ client, prefix: config.keyPrefix }), redis: client };
  }
  return { store: new MemoryStore(), redis: undefined };
}

export async function startRateLimitService(
  config: ServiceConfig,
  options: ServiceOptions = {},
): Promise<RateLimitService> {
  const logger = options.logger ?? pino({ level: config.logLevel, name: "scaleout-ratelimit" });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new RateLimitMetrics(registry);
  const reloads = new Counter({
    name: "scaleout_ratelimit_rule_reloads_total",
    help: "Rule reloads by result.",
    labelNames: ["result"],
    registers: [registry],
  });
  const cacheHits = new Gauge({
    name: "scaleout_ratelimit_local_cache_hits",
    help: "Decisions answered by the local over-limit cache since start.",
    registers: [registry],
  });

  const watcher = new RuleWatcher({ path: config.rules, debounceMs: config.reloadDebounceMs });
  watcher.on("reload", (rules) => {
    reloads.inc({ result: "ok" });
    logger.info({ domains: [...rules.domains.keys()] }, "rules reloaded");
  });
  watcher.on("error", (error: Error) => {
    reloads.inc({ result: "error" });
    logger.error({ err: error.message }, "rules reload failed; keeping the previous rules");
  });

  const { store: primary, redis } = createStore(config, logger);
  const store = new GuardedStore({
    store: primary,
    timeoutMs: config.storeTimeoutMs,
    failureMode: config.failureMode,
    ...(config.fallbackMemory ? { fallback: new MemoryStore() } : {}),
    metrics,
  });
  store.on("failure", (event: StoreFailureEvent) =>
    logger.warn(
      {
        store: event.store,
        reason: event.reason,
        outcome: event.outcome,
        err: event.error.message,
      },
      "store failure",
    ),
  );
  if (primary instanceof RedisStore) {
    await primary
      .loadScripts()
      .catch((error: Error) => logger.warn({ err: error.message }, "could not preload scripts"));
  }
  const overLimitCache = config.localCache
    ? new OverLimitCache(config.localCacheMaxKeys)
    : undefined;
  // New rules may raise a limit: denials cached under the old ones must not outlive them.
  watcher.on("reload", () => overLimitCache?.clear());
  const engine = new RuleEngine({
    rules: () => watcher.rules,
    store,
    metrics,
    ...(overLimitCache ? { overLimitCache } : {}),
    shadowMode: config.shadowMode,
    onShadowDeny: (domain, rule) =>
      logger.debug({ domain, rule }, "over limit (shadow mode: allowed)"),
  });
  registry.registerMetric(
    new Gauge({
      name: "scaleout_ratelimit_local_cache_keys",
      help: "Keys currently in the local over-limit cache.",
      registers: [],
      collect() {
        this.set(overLimitCache?.size ?? 0);
        cacheHits.set(overLimitCache?.hits ?? 0);
      },
    }),
  );

  // HTTP: check API and operations endpoints.
  const http = createServer((request, response) => {
    handleHttp(request, response, config, engine, store, watcher, registry, logger).catch(
      (error: unknown) => {
        logger.error({ err: (error as Error).message }, "http handler failed");
        if (!response.headersSent) sendJson(response, 500, { error: "internal error" });
      },
    );
  });
  http.maxConnections = config.maxConnections;
  http.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  http.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
  http.listen(config.httpPort, config.host);
  await once(http, "listening");

  // gRPC: envoy's RateLimitService.
  const grpcServer = new grpc.Server({
    "grpc.max_receive_message_length": GRPC_MESSAGE_BYTES_MAX,
    "grpc.max_send_message_length": GRPC_MESSAGE_BYTES_MAX,
    "grpc.max_concurrent_streams": GRPC_CONCURRENT_STREAMS_MAX,
  });
  grpcServer.addService(loadRlsService().service, {
    ShouldRateLimit: (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      let request: ReturnType<typeof checkRequestFromWire>;
      try {
        request = checkRequestFromWire(call.request);
      } catch (error) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: (error as Error).message });
        return;
      }
      engine.check(request).then(
        (response) => callback(null, checkResponseToProto(response)),
        (error: unknown) => {
          const invalid =
            isRateLimitError(error, "SCALEOUT_RL_REQUEST_INVALID") ||
            isRateLimitError(error, "SCALEOUT_RL_INVALID_KEY");
          if (!invalid) logger.error({ err: (error as Error).message }, "ShouldRateLimit failed");
          callback({
            code: invalid ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL,
            details: (error as Error).message,
          });
        },
      );
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync(
      `${config.host}:${config.grpcPort}`,
      grpc.ServerCredentials.createInsecure(),
      (error, port) => (error ? reject(error) : resolve(port)),
    );
  });

  const httpPort = (http.address() as AddressInfo).port;
  logger.info(
    {
      httpPort,
      grpcPort,
      store: redis ? "redis" : "memory",
      domains: [...watcher.rules.domains.keys()],
    },
    "rate limit service listening",
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info("shutting down: draining in-flight requests");
      watcher.close();
      const drained = Promise.all([
        new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeIdleConnections();
        }),
      ]);
      const timer = setTimeout(() => {
        grpcServer.forceShutdown();
        http.closeAllConnections();
      }, config.shutdownTimeoutMs);
      await drained;
      clearTimeout(timer);
      await store.close();
      if (redis !== undefined) redis.disconnect();
      logger.info("shut down");
    })();
    return closing;
  };

  return { httpPort, grpcPort, engine, watcher, store, registry, logger, close };
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () =>
      resolve(
        tooLarge
          ? undefined
          : chunks.length === 1
            ? chunks[0]!.toString("utf8")
            : Buffer.concat(chunks).toString("utf8"),
      ),
    );
    request.on("error", reject);
  });
}

async function handleHttp(
  request: IncomingMessage,
  response: ServerResponse,
  config: ServiceConfig,
  engine: RuleEngine,
  store: GuardedStore,
  watcher: RuleWatcher,
  registry: Registry,
  logger: Logger,
): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (request.method === "POST" && path === "/v1/check") {
    const body = await readBody(request, config.maxBodyBytes);
    if (body === undefined) {
      sendJson(response, 413, { error: `body larger than ${config.maxBodyBytes} bytes` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      sendJson(response, 400, {
        error: "the body is not valid JSON",
        code: "SCALEOUT_RL_REQUEST_INVALID",
      });
      return;
    }
    try {
      const result = await engine.check(checkRequestFromWire(parsed));
      const json = checkResponseToJson(result);
      if (result.overallCode === "OVER_LIMIT") {
        const retry = Math.max(
          ...result.statuses.filter((s) => s.code === "OVER_LIMIT").map((s) => s.retryAfterMs),
        );
        const headers: Record<string, string> =
          retry > 0 ? { "retry-after": String(Math.ceil(retry / 1000)) } : {};
        sendJson(response, 429, json, headers);
      } else {
        sendJson(response, 200, json);
      }
    } catch (error) {
      if (error instanceof RateLimitError) {
        sendJson(response, 400, { error: error.message, code: error.code });
        return;
      }
      throw error;
    }
    return;
  }
  if (request.method !== "GET") {
    sendJson(response, 405, { error: "method not allowed" });
    return;
  }
  switch (path) {
    case "/healthz":
      sendJson(response, 200, { status: "ok" });
      return;
    case "/readyz": {
      const storeReady = await store.ping();
      sendJson(response, storeReady ? 200 : 503, {
        status: storeReady ? "ready" : "store unreachable",
        store: store.name,
      });
      return;
    }
    case "/metrics":
      response.writeHead(200, { "content-type": registry.contentType });
      response.end(await registry.metrics());
      return;
    case "/debug/rules":
      sendJson(response, 200, {
        reloads: watcher.reloads,
        failedReloads: watcher.failures,
        domains: watcher.rules.describe(),
      });
      return;
    default:
      logger.debug({ path }, "not found");
      sendJson(response, 404, { error: "not found" });
  }
}

/**
 * Runs the service until SIGTERM or SIGINT, then shuts down gracefully and
 * lets the process exit 0. Used by `scaleout ratelimit serve`.
 */
export async function runRateLimitService(config: ServiceConfig): Promise<void> {
  const service = await startRateLimitService(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      service.logger.info({ signal }, "signal received");
      service.close().then(resolve, resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
