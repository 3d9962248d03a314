/**
 * Express (4 and 5) middleware: `app.use(expressRateLimit({...}))` or per
 * route `app.get("/x", expressRateLimit({...}), handler)`. Uses `req.ip`, so
 * Express's "trust proxy" setting decides which address counts. Typed
 * structurally so the package does not depend on Express.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { RateLimitCore, type RateLimitMiddlewareOptions, type RequestInfo } from "./core.js";
import { applyOutcome } from "./node-http.js";

export interface ExpressLikeRequest extends IncomingMessage {
  ip?: string | undefined;
  originalUrl?: string;
}

export type ExpressMiddleware = ((
  request: ExpressLikeRequest,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void) & { core: RateLimitCore<ExpressLikeRequest> };

export function expressRateLimit(
  options: RateLimitMiddlewareOptions<ExpressLikeRequest>,
): ExpressMiddleware {
  const core = new RateLimitCore(options);
  const middleware = (
    request: ExpressLikeRequest,
    response: ServerResponse,
    next: (error?: unknown) => void,
  ): void => {
    const info: RequestInfo<ExpressLikeRequest> = {
      ip: request.ip ?? request.socket.remoteAddress,
      headers: request.headers,
      method: request.method ?? "GET",
      url: request.originalUrl ?? request.url ?? "/",
      raw: request,
    };
    core
      .evaluate(info)
      .then((outcome) => applyOutcome(outcome, response))
      .then((proceed) => {
        if (proceed) next();
      }, next);
  };
  return Object.assign(middleware, { core });
}
