/**
 * The framework-neutral middleware core: who is asking (key), under which
 * policy (per route), at what cost; then the decision, its headers, and
 * whether to continue, wait (leaking bucket queue mode) or answer 429.
 * The node:http, Express and Fastify adapters only translate to and from it.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Decision } from "../decision.js";
import { type CompiledPolicy, compilePolicy, type Policy } from "../policy.js";
import type { RequestDescriptor, RuleEngine } from "../rules/engine.js";
import { UNIT_MS } from "../rules/units.js";
import { MemoryStore } from "../stores/memory-store.js";
import type { RateLimitStore } from "../stores/store.js";
import { clientAddressKey, type IpGrouping } from "./client-ip.js";
import { type HeaderOptions, rateLimitHeaders } from "./headers.js";

/** What a middleware knows about a request, whatever the framework. */
export interface RequestInfo<Req> {
  /** Client address as the framework resolved it (Express honours "trust proxy"). */
  ip: string | undefined;
  headers: IncomingHttpHeaders;
  method: string;
  url: string;
  /** The framework's own request object, for custom key and policy functions. */
  raw: Req;
}

export type KeySource<Req> =
  | "ip"
  | { header: string }
  | { user: (request: RequestInfo<Req>) => string | undefined }
  | ((request: RequestInfo<Req>) => string | undefined);

/** A policy with a name: the name shows in RateLimit-Policy and separates counters between routes. */
export type NamedPolicy = Policy & { name?: string };

export interface RulesSource<Req> {
  engine: RuleEngine;
  domain: string;
  /** Envoy-style descriptors for this request; the client key is available as `key`. */
  descriptors: (request: RequestInfo<Req>, key: string) => RequestDescriptor[];
}

export interface ShadowLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface RateLimitMiddlewareOptions<Req> {
  /** The default policy. Ignored for requests where `policyFor` answers. */
  policy?: NamedPolicy;
  /** Per-route policy: return undefined to fall back to `policy`, null to not limit this request. */
  policyFor?: (request: RequestInfo<Req>) => NamedPolicy | null | undefined;
  /** Instead of policies: envoy-format rules evaluated by a RuleEngine. */
  rules?: RulesSource<Req>;
  store?: RateLimitStore;
  /** Default "ip". A request without a key (no header, no user) is not limited. */
  key?: KeySource<Req>;
  ipGrouping?: IpGrouping;
  cost?: (request: RequestInfo<Req>) => number;
  headers?: HeaderOptions;
  /** Count and log, never block. */
  shadowMode?: boolean;
  logger?: ShadowLogger;
  /** Requests for which this returns true are neither counted nor limited. */
  skip?: (request: RequestInfo<Req>) => boolean;
  /** Keys or client addresses that are never limited. */
  allowList?: readonly string[];
  /** Leaking bucket queue mode: wait the decision's delay before continuing (default true). */
  waitInQueue?: boolean;
  statusCode?: number;
  message?: string;
}

export interface Outcome {
  action: "continue" | "reject";
  headers: Record<string, string>;
  /** Milliseconds to wait before continuing (queue mode). */
  delayMs: number;
  statusCode: number;
  body: { error: string; message: string; retryAfterMs: number } | undefined;
}

const CONTINUE: Outcome = {
  action: "continue",
  headers: {},
  delayMs: 0,
  statusCode: 200,
  body: undefined,
};

function policyName(policy: NamedPolicy): string {
  return policy.name ?? `${policy.algorithm}-${policy.limit}-per-${policy.periodMs}ms`;
}

export class RateLimitCore<Req> {
  private readonly options: RateLimitMiddlewareOptions<Req>;
  readonly store: RateLimitStore;
  private readonly allow: ReadonlySet<string>;
  private readonly compiled = new WeakMap<NamedPolicy, CompiledPolicy>();

  constructor(options: RateLimitMiddlewareOptions<Req>) {
    if (
      options.policy === undefined &&
      options.policyFor === undefined &&
      options.rules === undefined
    ) {
      throw new TypeError("rate limit middleware needs a policy, policyFor or rules");
    }
    this.options = options;
    this.store = options.store ?? new MemoryStore();
    this.allow = new Set(options.allowList ?? []);
    if (options.policy !== undefined) this.compile(options.policy); // fail fast on a bad policy
  }

  private compile(policy: NamedPolicy): CompiledPolicy {
    let compiled = this.compiled.get(policy);
    if (compiled === undefined) {
      compiled = compilePolicy(policy);
      this.compiled.set(policy, compiled);
    }
    return compiled;
  }

  keyOf(request: RequestInfo<Req>): string | undefined {
    const source = this.options.key ?? "ip";
    if (source === "ip")
      return request.ip === undefined
        ? undefined
        : clientAddressKey(request.ip, this.options.ipGrouping);
    if (typeof source === "function") return source(request);
    if ("header" in source) {
      const value = request.headers[source.header.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    }
    return source.user(request);
  }

  async evaluate(request: RequestInfo<Req>): Promise<Outcome> {
    if (this.options.skip?.(request) === true) return CONTINUE;
    const key = this.keyOf(request);
    if (key === undefined) return CONTINUE;
    if (this.allow.has(key) || (request.ip !== undefined && this.allow.has(request.ip)))
      return CONTINUE;
    const cost = this.options.cost?.(request) ?? 1;
    if (this.options.rules !== undefined) return this.evaluateRules(request, key, cost);
    let policy: NamedPolicy | null | undefined = this.options.policyFor?.(request);
    if (policy === undefined) policy = this.options.policy;
    if (policy === null || policy === undefined) return CONTINUE;
    const name = policyName(policy);
    const decision = await this.store.decide(`${name}:${key}`, this.compile(policy), cost);
    return this.outcome(decision, { periodMs: policy.periodMs, name }, key, request);
  }

  private async evaluateRules(
    request: RequestInfo<Req>,
    key: string,
    cost: number,
  ): Promise<Outcome> {
    const rules = this.options.rules!;
    const descriptors = rules.descriptors(request, key);
    if (descriptors.length === 0) return CONTINUE;
    const response = await rules.engine.check({
      domain: rules.domain,
      descriptors,
      hitsAddend: cost,
    });
    // Advertise the tightest rule that applied: the one with the fewest requests left.
    let tightest: { decision: Decision; periodMs: number; name: string } | undefined;
    for (const status of response.statuses) {
      if (status.rule === undefined || status.rule.unlimited || status.rule.unit === undefined)
        continue;
      const over = status.code === "OVER_LIMIT";
      const decision: Decision = {
        allowed: !over,
        limit: status.rule.requestsPerUnit,
        remaining: status.limitRemaining,
        resetMs: status.durationUntilResetMs,
        retryAfterMs: over ? status.retryAfterMs : 0,
        delayMs: 0,
      };
      const periodMs = UNIT_MS[status.rule.unit];
      if (
        tightest === undefined ||
        over > !tightest.decision.allowed ||
        (over === !tightest.decision.allowed && decision.remaining < tightest.decision.remaining)
      ) {
        tightest = { decision, periodMs, name: status.rule.name };
      }
    }
    if (tightest === undefined) return CONTINUE;
    return this.outcome(tightest.decision, tightest, key, request);
  }

  private outcome(
    decision: Decision,
    policy: { periodMs: number; name: string },
    key: string,
    request: RequestInfo<Req>,
  ): Outcome {
    const headers = rateLimitHeaders(decision, policy, this.options.headers);
    if (decision.allowed) {
      const delayMs = this.options.waitInQueue === false ? 0 : decision.delayMs;
      return { action: "continue", headers, delayMs, statusCode: 200, body: undefined };
    }
    if (this.options.shadowMode === true) {
      this.options.logger?.warn(
        { key, policy: policy.name, method: request.method, url: request.url },
        "rate limit exceeded (shadow mode: allowed)",
      );
      return { action: "continue", headers, delayMs: 0, statusCode: 200, body: undefined };
    }
    return {
      action: "reject",
      headers,
      delayMs: 0,
      statusCode: this.options.statusCode ?? 429,
      body: {
        error: "Too Many Requests",
        message: this.options.message ?? `Rate limit exceeded for policy ${policy.name}.`,
        retryAfterMs: decision.retryAfterMs,
      },
    };
  }
}
