export {
  clientAddressKey,
  expandIPv6,
  IPV4_PREFIX_BITS_DEFAULT,
  IPV6_PREFIX_BITS_DEFAULT,
  type IpGrouping,
} from "./client-ip.js";
export {
  type KeySource,
  type NamedPolicy,
  type Outcome,
  RateLimitCore,
  type RateLimitMiddlewareOptions,
  type RequestInfo,
  type RulesSource,
  type ShadowLogger,
} from "./core.js";
export { type ExpressLikeRequest, type ExpressMiddleware, expressRateLimit } from "./express.js";
export { type FastifyRateLimitOptions, fastifyRateLimit } from "./fastify.js";
export { type HeaderOptions, IETF_DRAFTS, type IetfDraft, rateLimitHeaders } from "./headers.js";
export { applyOutcome, type NodeRateLimit, nodeRateLimit, nodeRequestInfo } from "./node-http.js";
