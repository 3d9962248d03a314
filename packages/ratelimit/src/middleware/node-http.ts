/**
 * node:http adapter. `const limit = nodeRateLimit({...})`, then in the
 * request handler: `if (!(await limit(req, res))) return;` (the 429 has been
 * sent). Headers are set on allowed responses too.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Outcome,
  RateLimitCore,
  type RateLimitMiddlewareOptions,
  type RequestInfo,
} from "./core.js";

export type NodeRateLimit = ((
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<boolean>) & {
  core: RateLimitCore<IncomingMessage>;
};

export function nodeRequestInfo(request: IncomingMessage): RequestInfo<IncomingMessage> {
  return {
    ip: request.socket.remoteAddress,
    headers: request.headers,
    method: request.method ?? "GET",
    url: request.url ?? "/",
    raw: request,
  };
}

/** Applies an outcome to a node response; returns whether the request may proceed. */
export async function applyOutcome(outcome: Outcome, response: ServerResponse): Promise<boolean> {
  for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value);
  if (outcome.action === "reject") {
    const body = JSON.stringify(outcome.body);
    response.writeHead(outcome.statusCode, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
    return false;
  }
  if (outcome.delayMs > 0) await sleep(outcome.delayMs);
  return true;
}

export function nodeRateLimit(options: RateLimitMiddlewareOptions<IncomingMessage>): NodeRateLimit {
  const core = new RateLimitCore(options);
  const limit = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> =>
    applyOutcome(await core.evaluate(nodeRequestInfo(request)), response);
  return Object.assign(limit, { core });
}
