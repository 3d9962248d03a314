/**
 * HTTP API of a cluster node (fastify, bound like the RESP port):
 *
 *   GET    /kv/:key  200 one value (X-Scaleout-Context header), 404 absent,
 *                    300 Multiple Choices when siblings exist: JSON
 *                    {context, siblings: [{value (base64), wallMs}]} + the header
 *   PUT    /kv/:key  body = value; X-Scaleout-Context from a read supersedes what
 *                    it saw; without it the write is blind (concurrent → siblings,
 *                    as Riak). 204 with the new X-Scaleout-Context
 *   DELETE /kv/:key  tombstone superseding the context (or all visible versions). 204
 *   ?n=&w=&r=&timeoutMs= per request; 503 on quorum failures (body names the count)
 *   GET /healthz, /readyz, /metrics, /cluster/status (JSON)
 *   POST /cluster/leave, POST /cluster/fault {"drop": ["n2", ...]} (chaos; [] heals)
 *
 * Keys are the percent-decoded path segment byte for byte, as the node's HTTP.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { Counter, Gauge, Registry } from "prom-client";
import type { ClientReply, QuorumOptions } from "../cluster/index.js";
import { HTTP_MAX_BODY_BYTES } from "../limits.js";
import { percentDecode } from "../server/http.js";
import { clusterKey, retainedCopy } from "./commands.js";
import type { ClusterDriver } from "./driver.js";

export const CONTEXT_HEADER = "x-scaleout-context";

export interface ClusterHttpDependencies {
  driver: ClusterDriver;
  requirePass: string | undefined;
  isReady: () => boolean;
}

function quorumFrom(query: Record<string, string | undefined>): QuorumOptions {
  const options: {
    n?: number;
    w?: number;
    r?: number;
    timeoutMs?: number;
    consistency?: "quorum" | "localQuorum";
  } = {};
  for (const name of ["n", "w", "r", "timeoutMs"] as const) {
    const raw = query[name];
    if (raw !== undefined && /^\d{1,9}$/.test(raw)) options[name] = Number(raw);
  }
  // ?consistency=localQuorum: W/R count only this node's data center (as KV.* LOCAL).
  const consistency = query.consistency;
  if (consistency === "quorum" || consistency === "localQuorum") options.consistency = consistency;
  return options;
}

function statusForError(code: string): number {
  return code.endsWith("BAD_QUORUM") ||
    code.endsWith("BAD_CONTEXT") ||
    code.endsWith("TOO_MANY_SIBLINGS")
    ? 400
    : 503;
}

export function clusterMetrics(driver: ClusterDriver): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  const status = () => driver.node.status(Date.now());
  gauge("kv_cluster_keys", "Keys held by this replica.", () => driver.node.store.size);
  gauge(
    "kv_cluster_members_up",
    "Members this node sees as up.",
    () => status().members.filter((m) => m.up && m.status === "normal").length,
  );
  gauge("kv_cluster_hint_backlog", "Hinted-handoff hints held for other nodes.", () =>
    status().hintBacklog.reduce((sum, h) => sum + h.hints, 0),
  );
  gauge(
    "kv_cluster_transfers_out",
    "Partition transfers in flight from this node.",
    () => status().transfersOut.length,
  );
  const counters = () => driver.node.counters;
  counter("kv_cluster_read_repairs_total", "Read repairs sent.", () => counters().readRepairs);
  counter("kv_cluster_hints_replayed_total", "Hints delivered.", () => counters().hintsReplayed);
  counter(
    "kv_cluster_ae_keys_repaired_total",
    "Keys repaired by anti-entropy.",
    () => counters().antiEntropyKeysRepaired,
  );
  counter(
    "kv_cluster_frames_dropped_fault_total",
    "Peer frames dropped by the fault layer.",
    () => driver.transport.counters.framesDroppedByFault,
  );
  return registry;
}

export function createClusterHttpServer(dependencies: ClusterHttpDependencies): FastifyInstance {
  const rawKeys = new WeakMap<object, string>();
  const app = Fastify({
    logger: false,
    bodyLimit: HTTP_MAX_BODY_BYTES,
    rewriteUrl: (request) => {
      const url = request.url ?? "/";
      if (!url.startsWith("/kv/")) return url;
      const query = url.indexOf("?");
      rawKeys.set(request, (query === -1 ? url : url.slice(0, query)).slice("/kv/".length));
      return `/kv${query === -1 ? "" : url.slice(query)}`;
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  const { driver, requirePass } = dependencies;
  const registry = clusterMetrics(driver);

  const authorized = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (requirePass === undefined) return true;
    if (request.headers.authorization === `Bearer ${requirePass}`) return true;
    void reply.code(401).send({ error: "NOAUTH Authentication required." });
    return false;
  };
  const keyOf = (request: FastifyRequest): string =>
    clusterKey(percentDecode(rawKeys.get(request.raw) ?? ""));
  const contextOf = (request: FastifyRequest): string | null => {
    const header = request.headers[CONTEXT_HEADER];
    return typeof header === "string" && header !== "" ? header : null;
  };
  const sendError = (reply: FastifyReply, result: Extract<ClientReply, { kind: "error" }>) =>
    reply
      .code(statusForError(result.code))
      .send({ error: result.code, message: result.message, replied: result.replied });

  app.get("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const query = request.query as Record<string, string | undefined>;
    const result = await driver.request({ kind: "get", key: keyOf(request), ...quorumFrom(query) });
    if (result.kind === "error") return sendError(reply, result);
    if (result.kind !== "read") return reply.code(500).send({ error: "unexpected reply" });
    void reply.header(CONTEXT_HEADER, result.context);
    if (result.siblings.length === 0 && result.newest === null) {
      return reply.code(404).send({ error: "not found" });
    }
    if (result.siblings.length > 1) {
      return reply.code(300).send({
        context: result.context,
        siblings: result.siblings.map((sibling) => ({
          value: Buffer.from(sibling.value).toString("base64"),
          wallMs: sibling.hlc.wallMs,
        })),
      });
    }
    return reply
      .type("application/octet-stream")
      .send(Buffer.from(result.newest ?? new Uint8Array()));
  });

  app.put("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const query = request.query as Record<string, string | undefined>;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await driver.request({
      kind: "put",
      key: keyOf(request),
      value: retainedCopy(body),
      context: contextOf(request),
      supersedeVisible: false,
      ...quorumFrom(query),
    });
    if (result.kind === "error") return sendError(reply, result);
    if (result.kind !== "written") return reply.code(500).send({ error: "unexpected reply" });
    if (result.warning !== null) void reply.header("x-scaleout-warning", result.warning);
    return reply.header(CONTEXT_HEADER, result.context).code(204).send();
  });

  app.delete("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const query = request.query as Record<string, string | undefined>;
    const context = contextOf(request);
    const result = await driver.request({
      kind: "delete",
      key: keyOf(request),
      context,
      supersedeVisible: context === null,
      ...quorumFrom(query),
    });
    if (result.kind === "error") return sendError(reply, result);
    return reply.code(204).send();
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) =>
    dependencies.isReady() ? { status: "ready" } : reply.code(503).send({ status: "not ready" }),
  );
  app.get("/metrics", async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get("/cluster/status", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    return driver.status();
  });
  app.post("/cluster/leave", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    driver.leave();
    return { status: "leaving" };
  });
  app.post("/cluster/fault", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    let drop: unknown;
    try {
      drop = (
        JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "{}") as {
          drop?: unknown;
        }
      ).drop;
    } catch {
      return reply.code(400).send({ error: 'body must be JSON {"drop": [ids]}' });
    }
    if (!Array.isArray(drop) || !drop.every((id) => typeof id === "string")) {
      return reply.code(400).send({ error: 'body must be JSON {"drop": [ids]}' });
    }
    driver.setDropped(drop as string[]);
    return { dropped: driver.transport.droppedPeers() };
  });
  return app;
}
