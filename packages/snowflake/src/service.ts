/**
 * The HTTP id service behind `scaleout ids serve`.
 *
 *   GET /id              {"id":"..."}
 *   GET /ids?count=N     {"ids":["...", ...]}   N in 1..maxBatch (10 000 by default)
 *   GET /decode/:id      {"id","timestamp","iso","datacenter","machine","sequence"}
 *   GET /healthz         200 while the process runs
 *   GET /readyz          200 when ids can be issued (clock past any reservation, lease held)
 *   GET /metrics         Prometheus text
 *
 * Ids are always JSON strings. Bad input is a 400 whose message says what is
 * wrong; a generator that must not issue (lease lost, clock behind) is a 503
 * with Retry-After. Errors have the shape {"error":{"code","message"}}.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from "fastify";
import { type Logger, pino } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Clock } from "./clock.js";
import { type IdServiceConfig, layoutOf } from "./config.js";
import { decode, parseCount, parseId } from "./decode.js";
import { SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import { type GeneratorOptions, SnowflakeGenerator } from "./generator.js";
import type { WorkerIdLease } from "./lease.js";
import { createLeasedGenerator } from "./leased-generator.js";

/** Limits on network input: GETs carry no body; an id path segment is short. */
const BODY_LIMIT_BYTES = 1_024;
const MAX_PARAM_LENGTH = 1_024;
const REQUEST_TIMEOUT_MS = 10_000;
const CONNECTION_TIMEOUT_MS = 10_000;
const RETRY_AFTER_SECONDS = 1;

export interface IdService {
  readonly app: FastifyInstance;
  readonly generator: SnowflakeGenerator;
  readonly lease: WorkerIdLease | null;
  readonly logger: Logger;
  /** http://host:port actually bound (port 0 resolves to a free port). */
  readonly url: string;
  /** Stops accepting, drains in-flight requests, flushes the state file, releases the lease. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
}

const CLIENT_ERRORS: ReadonlySet<string> = new Set([
  SnowflakeErrorCode.ID_INVALID,
  SnowflakeErrorCode.COUNT_INVALID,
]);

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof SnowflakeError) {
    const status = CLIENT_ERRORS.has(error.code) ? 400 : 503;
    if (status === 503) reply.header("retry-after", String(RETRY_AFTER_SECONDS));
    return reply.code(status).send({ error: { code: error.code, message: error.message } });
  }
  throw error;
}

export async function startIdService(
  config: IdServiceConfig,
  options: StartOptions = {},
): Promise<IdService> {
  const logger = options.logger ?? pino({ level: config.logLevel, name: "scaleout-ids" });
  const layout = layoutOf(config);
  const generatorOptions: GeneratorOptions = {
    layout,
    datacenter: config.datacenter,
    machine: config.machine ?? 0,
    maxBackwardsMs: config.maxBackwardsMs,
    maxLagMs: config.maxLagMs,
    maxStartupWaitMs: config.maxStartupWaitMs,
  };
  if (options.clock !== undefined) generatorOptions.clock = options.clock;
  if (config.stateFile !== null) generatorOptions.stateFile = config.stateFile;

  let generator: SnowflakeGenerator;
  let lease: WorkerIdLease | null = null;
  let closeGenerator: () => Promise<void>;
  if (config.lease !== null) {
    const { machine: _fixed, ...withoutMachine } = generatorOptions;
    const leased = await createLeasedGenerator({
      ...withoutMachine,
      lease: {
        url: config.lease,
        ttlMs: config.leaseTtlMs,
        onEvent: (event) => {
          if (event.kind === "lost" || event.kind === "renewal-failed")
            logger.warn({ lease: event }, "worker-id lease");
          else logger.info({ lease: event }, "worker-id lease");
        },
      },
    });
    generator = leased.generator;
    lease = leased.lease;
    closeGenerator = leased.close;
  } else {
    generator = new SnowflakeGenerator(generatorOptions);
    closeGenerator = async () => generator.close();
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counterFrom = (name: string, help: string, read: () => number) => {
    let reported = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        this.inc(value - reported);
        reported = value;
      },
    });
  };
  counterFrom(
    "scaleout_ids_issued_total",
    "Ids issued by this generator.",
    () => generator.issuedTotal,
  );
  counterFrom(
    "scaleout_ids_overflow_waits_total",
    "Times a time unit's sequence ran out and the generator waited for the next unit.",
    () => generator.overflowWaits,
  );
  counterFrom(
    "scaleout_ids_clock_backwards_total",
    "Times the clock was found behind the last timestamp used (waited out or refused).",
    () => generator.backwardsEvents,
  );
  new Gauge({
    name: "scaleout_ids_worker_info",
    help: "Datacenter and machine id in use (value 1).",
    labelNames: ["datacenter", "machine", "layout"],
    registers: [registry],
    collect() {
      this.reset();
      this.set(
        { datacenter: generator.datacenter, machine: generator.machine, layout: layout.name },
        1,
      );
    },
  });
  new Gauge({
    name: "scaleout_ids_lease_held",
    help: "1 when the worker-id lease is held (always 1 with a fixed machine id).",
    registers: [registry],
    collect() {
      this.set(lease === null || lease.held ? 1 : 0);
    },
  });
  const requests = new Counter({
    name: "scaleout_ids_http_requests_total",
    help: "HTTP requests by route and status.",
    labelNames: ["route", "status"],
    registers: [registry],
  });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    return503OnClosing: true,
  });
  let ready = false;
  let closing = false;

  app.addHook("onResponse", async (request, reply) => {
    requests.inc({
      route: request.routeOptions.url ?? "unknown",
      status: String(reply.statusCode),
    });
  });

  /** Refuses (503) while the first id would block on a previous run's reservation. */
  const notYetReady = (reply: FastifyReply): boolean => {
    const waitMs = generator.startupWaitMs();
    if (waitMs === 0) return false;
    reply.header("retry-after", String(Math.max(RETRY_AFTER_SECONDS, Math.ceil(waitMs / 1000))));
    reply.code(503).send({
      error: {
        code: SnowflakeErrorCode.CLOCK_BEHIND_RESERVATION,
        message: `waiting ${waitMs} ms for the clock to pass time a previous holder may have used`,
      },
    });
    return true;
  };

  app.get("/id", async (_request, reply) => {
    if (notYetReady(reply)) return reply;
    try {
      return reply.send({ id: generator.next().toString() });
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    "/ids",
    async (request, reply) => {
      const raw = request.query.count;
      try {
        if (Array.isArray(raw)) {
          throw new SnowflakeError(SnowflakeErrorCode.COUNT_INVALID, "count given more than once");
        }
        if (raw === undefined) {
          throw new SnowflakeError(
            SnowflakeErrorCode.COUNT_INVALID,
            `count is required: /ids?count=N with N in 1..${config.maxBatch}`,
          );
        }
        const count = parseCount(raw, config.maxBatch);
        if (notYetReady(reply)) return reply;
        const ids = await generator.nextStringsAsync(count);
        // Built by hand: the strings are plain digits, so no escaping is needed.
        return reply.type("application/json; charset=utf-8").send(`{"ids":["${ids.join('","')}"]}`);
      } catch (error) {
        return sendError(reply, error);
      }
    },
  );

  app.get<{ Params: { id: string } }>("/decode/:id", async (request, reply) => {
    try {
      return reply.send(decode(parseId(request.params.id), layout));
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    let reason: string | null = null;
    if (closing) reason = "shutting down";
    else if (!ready) reason = "starting";
    else if (lease !== null && !lease.held) reason = "worker-id lease not held";
    else if (generator.startupWaitMs() > 0) reason = "clock behind a previous reservation";
    if (reason === null)
      return { status: "ready", datacenter: generator.datacenter, machine: generator.machine };
    return reply.code(503).send({ status: "not ready", reason });
  });

  app.get("/metrics", async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  try {
    const address = await app.listen({ host: config.host, port: config.port });
    await generator.waitUntilReady();
    ready = true;
    logger.info(
      {
        address,
        layout: layout.name,
        datacenter: generator.datacenter,
        machine: generator.machine,
      },
      "id service ready",
    );
    const service: IdService = {
      app,
      generator,
      lease,
      logger,
      url: address,
      async close() {
        if (closing) return;
        closing = true;
        await app.close();
        await closeGenerator();
        logger.info({ issued: generator.issuedTotal }, "id service stopped; state flushed");
      },
    };
    return service;
  } catch (error) {
    closing = true;
    await app.close();
    await closeGenerator();
    throw error;
  }
}

/** SIGTERM/SIGINT: stop accepting, drain, flush the state file, release the lease, exit 0. */
export function closeOnSignals(service: IdService): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, "shutting down");
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
