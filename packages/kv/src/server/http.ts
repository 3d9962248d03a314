/**
 * HTTP API (fastify). Key operations go through the same dispatcher as RESP
 * (GET / SET / DEL), so they share locking, limits and statistics.
 *
 *   GET    /kv/:key   200 with the raw bytes (application/octet-stream), 404 if absent;
 *                     X-TTL-Ms header when the key has a TTL
 *   PUT    /kv/:key   body = value (any bytes); TTL from `X-TTL-Seconds` / `X-TTL-Ms`
 *                     headers or `?ttl=<seconds>` / `?ttlMs=<ms>`; 204
 *   DELETE /kv/:key   204, or 404 if absent
 *   GET /healthz, /readyz (503 while starting or shutting down), /metrics, /info (JSON)
 *
 * Keys are the percent-decoded path segment, byte for byte (so any key,
 * binary included, can be addressed). With requirepass set, /kv and /info
 * need `Authorization: Bearer <password>`.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import type { CommandDispatcher } from "../commands/dispatcher.js";
import type { ClientState } from "../commands/types.js";
import { HTTP_MAX_BODY_BYTES } from "../limits.js";
import type { Reply } from "../resp/reply.js";

export interface HttpDependencies {
  dispatcher: CommandDispatcher;
  registry: Registry;
  requirePass: string | undefined;
  isReady: () => boolean;
  info: () => Promise<string>;
}

/** Decodes %XX escapes to raw bytes (unlike decodeURIComponent, any byte sequence is fine). */
export function percentDecode(segment: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (
      c === 0x25 &&
      i + 2 < segment.length + 0 &&
      /^[0-9a-fA-F]{2}$/.test(segment.slice(i + 1, i + 3))
    ) {
      bytes.push(Number.parseInt(segment.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const byte of Buffer.from(segment[i]!, "utf8")) bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

function httpClient(): ClientState {
  return {
    id: 0,
    name: "http",
    libraryName: undefined,
    libraryVersion: undefined,
    protocol: 2,
    authenticated: true,
    remoteAddress: "http",
    localAddress: "http",
    createdAtMs: Date.now(),
    lastInteractionMs: Date.now(),
    lastCommand: "NULL",
    closeAfterReply: false,
    queryBufferBytes: () => 0,
    outputBufferBytes: () => 0,
    kill: () => {},
  };
}

export function parseInfo(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    if (line.startsWith("# ")) {
      current = {};
      sections[line.slice(2).toLowerCase()] = current;
    } else if (line.includes(":")) {
      const index = line.indexOf(":");
      current[line.slice(0, index)] = line.slice(index + 1);
    }
  }
  return sections;
}

export function createHttpServer(dependencies: HttpDependencies): FastifyInstance {
  // The router would percent-decode the key as UTF-8 and refuse binary keys
  // (%FF); so /kv/<key> is rewritten to /kv before routing and the raw
  // segment kept aside, to be decoded byte for byte.
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
  const { dispatcher, requirePass } = dependencies;
  const client = httpClient();

  const authorized = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (requirePass === undefined) return true;
    if (request.headers.authorization === `Bearer ${requirePass}`) return true;
    void reply.code(401).send({ error: "NOAUTH Authentication required." });
    return false;
  };
  const keyOf = (request: FastifyRequest): Buffer => percentDecode(rawKeys.get(request.raw) ?? "");
  const run = async (args: (Buffer | string)[]): Promise<Reply> => {
    const reply = await dispatcher.execute(
      client,
      args.map((arg) => (typeof arg === "string" ? Buffer.from(arg) : arg)),
    );
    // Buffered writes reach the OS before the response acknowledges them.
    dispatcher.commitWrites();
    return reply;
  };
  const sendError = (reply: FastifyReply, result: Reply): FastifyReply => {
    const text = result.kind === "error" ? result.text : "unexpected reply";
    return reply.code(text.startsWith("OOM") ? 507 : 400).send({ error: text });
  };

  app.get("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const key = keyOf(request);
    const result = await run(["GET", key]);
    if (result.kind === "null") return reply.code(404).send({ error: "not found" });
    if (result.kind !== "bulk") return sendError(reply, result);
    const ttl = await run(["PTTL", key]);
    if (ttl.kind === "integer" && Number(ttl.value) >= 0)
      void reply.header("x-ttl-ms", String(ttl.value));
    return reply.type("application/octet-stream").send(Buffer.from(result.value));
  });

  app.put("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const key = keyOf(request);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const query = request.query as Record<string, string | undefined>;
    const seconds = request.headers["x-ttl-seconds"] ?? query.ttl;
    const ms = request.headers["x-ttl-ms"] ?? query.ttlMs;
    const args: (Buffer | string)[] = ["SET", key, body];
    if (ms !== undefined) args.push("PX", String(ms));
    else if (seconds !== undefined) args.push("EX", String(seconds));
    const result = await run(args);
    if (result.kind === "error") return sendError(reply, result);
    return reply.code(204).send();
  });

  app.delete("/kv", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    const result = await run(["DEL", keyOf(request)]);
    if (result.kind === "error") return sendError(reply, result);
    return reply.code(result.kind === "integer" && Number(result.value) > 0 ? 204 : 404).send();
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) =>
    dependencies.isReady() ? { status: "ready" } : reply.code(503).send({ status: "not ready" }),
  );
  app.get("/metrics", async (_request, reply) =>
    reply.type(dependencies.registry.contentType).send(await dependencies.registry.metrics()),
  );
  app.get("/info", async (request, reply) => {
    if (!authorized(request, reply)) return reply;
    return parseInfo(await dependencies.info());
  });
  return app;
}
