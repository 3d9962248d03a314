/**
 * @scaleout/ratelimit: rate limiting algorithms as pure functions, memory and
 * Redis stores that apply them atomically, envoy-format rules, HTTP
 * middleware, and the stand-alone rate limit service.
 */
export * from "./algorithms/index.js";
export { type Decision, RETRY_NEVER } from "./decision.js";
export {
  isRateLimitError,
  RATE_LIMIT_ERROR_CODES,
  RateLimitError,
  type RateLimitErrorCode,
} from "./errors.js";
export { RateLimiter, type RateLimiterOptions } from "./limiter.js";
export { NEAR_LIMIT_RATIO, RateLimitMetrics } from "./metrics.js";
export * from "./middleware/index.js";
export {
  ALGORITHMS,
  type AlgorithmName,
  type CompiledPolicy,
  compilePolicy,
  type LeakMode,
  PERIOD_MS_MAX,
  type Policy,
  validateCost,
} from "./policy.js";
export {
  type DescriptorLevel,
  type DescriptorNode,
  type DomainRules,
  parseRules,
  type RateLimitRule,
  RULE_ALGORITHM_DEFAULT,
} from "./rules/config.js";
export {
  type CheckRequest,
  type CheckResponse,
  type DescriptorStatus,
  type RequestDescriptor,
  RuleEngine,
  type RuleEngineOptions,
  type StatusCode,
  UNLIMITED_REMAINING,
  validateCheckRequest,
} from "./rules/engine.js";
export { OverLimitCache } from "./rules/over-limit-cache.js";
export {
  type DescriptorEntry,
  loadRuleSet,
  type RuleMatch,
  RuleSet,
  type RuleSetDescription,
} from "./rules/rule-set.js";
export { parseUnit, type RateLimitUnit, UNIT_MS, UNITS } from "./rules/units.js";
export {
  RELOAD_DEBOUNCE_MS_DEFAULT,
  RuleWatcher,
  type RuleWatcherOptions,
} from "./rules/watcher.js";
export {
  type ConfigSources,
  resolveServiceConfig,
  SERVICE_SETTINGS,
  type ServiceConfig,
} from "./service/config.js";
export {
  loadRlsProto,
  loadRlsService,
  PROTO_DIR,
  type RateLimitService,
  RLS_PROTO_FILE,
  runRateLimitService,
  type ServiceOptions,
  startRateLimitService,
} from "./service/service.js";
export { checkRequestFromWire, checkResponseToJson, checkResponseToProto } from "./service/wire.js";
export {
  type FailureMode,
  type FailureOutcome,
  type GuardedDecision,
  GuardedStore,
  type GuardedStoreOptions,
  STORE_TIMEOUT_MS_DEFAULT,
  type StoreFailureEvent,
} from "./stores/guarded-store.js";
export {
  MEMORY_STORE_KEYS_MAX_DEFAULT,
  MemoryStore,
  type MemoryStoreOptions,
} from "./stores/memory-store.js";
export {
  REDIS_KEY_PREFIX_DEFAULT,
  RedisStore,
  type RedisStoreOptions,
} from "./stores/redis-store.js";
export { KEY_LENGTH_MAX, type RateLimitStore } from "./stores/store.js";
