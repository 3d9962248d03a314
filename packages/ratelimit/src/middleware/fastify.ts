/**
 * Fastify 5 plugin. Register once; it hooks every route (it is not
 * encapsulated, like a fastify-plugin plugin). Per-route settings go in the
 * route's config: `config: { rateLimit: { algorithm, limit, periodMs, name } }`
 * or `config: { rateLimit: false }` to exempt a route.
 */

import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import {
  type NamedPolicy,
  RateLimitCore,
  type RateLimitMiddlewareOptions,
  type RequestInfo,
} from "./core.js";

interface RouteRateLimitConfig {
  rateLimit?: NamedPolicy | false;
}

export type FastifyRateLimitOptions = RateLimitMiddlewareOptions<FastifyRequest>;

const plugin: FastifyPluginAsync<FastifyRateLimitOptions> = async (
  fastify: FastifyInstance,
  options,
) => {
  const userPolicyFor = options.policyFor;
  const namedRoutePolicies = new WeakMap<NamedPolicy, NamedPolicy>();
  const core = new RateLimitCore<FastifyRequest>({
    ...options,
    policyFor: (info) => {
      const routeConfig = info.raw.routeOptions.config as RouteRateLimitConfig | undefined;
      const route = routeConfig?.rateLimit;
      if (route === false) return null;
      if (route !== undefined) {
        // One named policy object per route config, so the core compiles it once.
        let named = namedRoutePolicies.get(route);
        if (named === undefined) {
          named = { ...route, name: route.name ?? `${info.raw.routeOptions.url ?? info.url}` };
          namedRoutePolicies.set(route, named);
        }
        return named;
      }
      return userPolicyFor?.(info);
    },
  });
  fastify.decorate("rateLimitCore", core);
  fastify.addHook("onRequest", async (request, reply) => {
    const info: RequestInfo<FastifyRequest> = {
      ip: request.ip,
      headers: request.headers,
      method: request.method,
      url: request.url,
      raw: request,
    };
    const outcome = await core.evaluate(info);
    reply.headers(outcome.headers);
    if (outcome.action === "reject") {
      return reply.code(outcome.statusCode).send(outcome.body);
    }
    if (outcome.delayMs > 0) await sleep(outcome.delayMs);
    return undefined;
  });
};

// Same effect as wrapping in fastify-plugin: the hook applies to the whole application.
Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "@scaleout/ratelimit",
  [Symbol.for("plugin-meta")]: { name: "@scaleout/ratelimit", fastify: "5.x" },
});

export const fastifyRateLimit = plugin;
