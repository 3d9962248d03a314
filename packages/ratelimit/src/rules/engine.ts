/**
 * Evaluates a request against the rules, envoy's way: every descriptor is
 * matched and counted; `replaces` drops the replaced rules; unlimited rules
 * answer locally; shadow-mode rules are counted but never deny; the overall
 * answer is OVER_LIMIT if any descriptor is. Shared by the service (HTTP and
 * gRPC), the CLI and the middleware.
 */
import type { Decision } from "../decision.js";
import { RateLimitError } from "../errors.js";
import type { RateLimitMetrics } from "../metrics.js";
import { compilePolicy } from "../policy.js";
import type { GuardedDecision } from "../stores/guarded-store.js";
import type { RateLimitStore } from "../stores/store.js";
import { type RateLimitRule, RULE_ALGORITHM_DEFAULT } from "./config.js";
import type { OverLimitCache } from "./over-limit-cache.js";
import type { DescriptorEntry, RuleMatch, RuleSet } from "./rule-set.js";
import { type RateLimitUnit, UNIT_MS } from "./units.js";

/** What envoy answers as limit_remaining for unlimited descriptors (MaxUint32). */
export const UNLIMITED_REMAINING = 4_294_967_295;
/** Network input bounds. */
export const DESCRIPTORS_PER_REQUEST_MAX = 64;
export const ENTRIES_PER_DESCRIPTOR_MAX = 16;
export const ENTRY_TEXT_LENGTH_MAX = 256;
export const HITS_ADDEND_MAX = 1_000_000;

export interface RequestDescriptor {
  entries: DescriptorEntry[];
  /** Envoy's RateLimitOverride: use this limit instead of the configured one. */
  limit?: { requestsPerUnit: number; unit: RateLimitUnit };
}

export interface CheckRequest {
  domain: string;
  descriptors: RequestDescriptor[];
  /** Cost of this request; 0 or absent means 1 (proto3 default). */
  hitsAddend?: number;
}

export type StatusCode = "OK" | "OVER_LIMIT";

export interface DescriptorStatus {
  code: StatusCode;
  /** The rule that applied, if any. */
  rule?: {
    name: string;
    requestsPerUnit: number;
    unit: RateLimitUnit | undefined;
    unlimited: boolean;
  };
  limitRemaining: number;
  durationUntilResetMs: number;
  retryAfterMs: number;
  /** Over limit, but the rule (or the service) is in shadow mode, so the answer is OK. */
  shadowed: boolean;
  /** The store failed; how the answer was made instead. */
  degraded?: string;
  /** Answered from the local over-limit cache. */
  cached?: boolean;
}

export interface CheckResponse {
  overallCode: StatusCode;
  statuses: DescriptorStatus[];
}

export interface RuleEngineOptions {
  /** Called per request so a watcher can swap rules underneath. */
  rules: () => RuleSet;
  store: RateLimitStore;
  metrics?: RateLimitMetrics;
  overLimitCache?: OverLimitCache;
  /** Count everything, deny nothing (envoy's global shadow mode). */
  shadowMode?: boolean;
  /** Called for each over-limit hit let through by shadow mode. */
  onShadowDeny?: (domain: string, rule: string, key: string) => void;
}

function bad(detail: string): never {
  throw new RateLimitError("SCALEOUT_RL_REQUEST_INVALID", detail);
}

/** Validates a request from the network against the input bounds. */
export function validateCheckRequest(request: CheckRequest): void {
  if (typeof request.domain !== "string" || request.domain === "") bad("domain is required");
  if (request.domain.length > ENTRY_TEXT_LENGTH_MAX)
    bad(`domain longer than ${ENTRY_TEXT_LENGTH_MAX}`);
  if (!Array.isArray(request.descriptors) || request.descriptors.length === 0)
    bad("at least one descriptor is required");
  if (request.descriptors.length > DESCRIPTORS_PER_REQUEST_MAX)
    bad(`more than ${DESCRIPTORS_PER_REQUEST_MAX} descriptors`);
  const hits = request.hitsAddend ?? 0;
  if (!Number.isSafeInteger(hits) || hits < 0 || hits > HITS_ADDEND_MAX)
    bad(`hits_addend must be 0..${HITS_ADDEND_MAX}`);
  request.descriptors.forEach((descriptor, i) => {
    if (!Array.isArray(descriptor.entries) || descriptor.entries.length === 0)
      bad(`descriptors[${i}] has no entries`);
    if (descriptor.entries.length > ENTRIES_PER_DESCRIPTOR_MAX)
      bad(`descriptors[${i}] has more than ${ENTRIES_PER_DESCRIPTOR_MAX} entries`);
    descriptor.entries.forEach((entry, j) => {
      for (const field of ["key", "value"] as const) {
        const text = entry?.[field];
        if (typeof text !== "string")
          bad(`descriptors[${i}].entries[${j}].${field} must be a string`);
        if (text.length > ENTRY_TEXT_LENGTH_MAX)
          bad(`descriptors[${i}].entries[${j}].${field} longer than ${ENTRY_TEXT_LENGTH_MAX}`);
      }
      if (entry.key === "") bad(`descriptors[${i}].entries[${j}].key must not be empty`);
    });
    if (descriptor.limit !== undefined) {
      const { requestsPerUnit, unit } = descriptor.limit;
      if (!Number.isSafeInteger(requestsPerUnit) || requestsPerUnit < 0)
        bad(`descriptors[${i}].limit.requests_per_unit invalid`);
      if (UNIT_MS[unit] === undefined) bad(`descriptors[${i}].limit.unit invalid`);
    }
  });
}

export class RuleEngine {
  private readonly options: RuleEngineOptions;

  constructor(options: RuleEngineOptions) {
    this.options = options;
  }

  get rules(): RuleSet {
    return this.options.rules();
  }

  async check(request: CheckRequest): Promise<CheckResponse> {
    validateCheckRequest(request);
    const cost =
      request.hitsAddend === undefined || request.hitsAddend === 0 ? 1 : request.hitsAddend;
    const rules = this.options.rules();
    const matches = request.descriptors.map((d) => this.resolve(rules, request.domain, d));
    // envoy: a matched rule that replaces a name drops every matched rule with that name.
    const replaced = new Set(matches.flatMap((m) => m?.rule.replaces ?? []));
    const statuses = await Promise.all(
      matches.map((match) => {
        if (match === undefined || (match.rule.named && replaced.has(match.rule.name)))
          return noRule();
        return this.decide(request.domain, match, cost);
      }),
    );
    const overallCode = statuses.some((s) => s.code === "OVER_LIMIT") ? "OVER_LIMIT" : "OK";
    return { overallCode, statuses };
  }

  private resolve(
    rules: RuleSet,
    domain: string,
    descriptor: RequestDescriptor,
  ): RuleMatch | undefined {
    const match = rules.match(domain, descriptor.entries);
    if (descriptor.limit === undefined) return match;
    // A limit override from the client keeps the matched rule's algorithm, name and shadow mode.
    const base = match?.rule;
    const { requestsPerUnit, unit } = descriptor.limit;
    const algorithm = base?.policy?.algorithm ?? RULE_ALGORITHM_DEFAULT;
    const rule: RateLimitRule = {
      name: base?.name ?? `${domain}: override`,
      named: base?.named ?? false,
      unit,
      requestsPerUnit,
      unlimited: false,
      replaces: base?.replaces ?? [],
      shadowMode: base?.shadowMode ?? false,
      detailedMetric: base?.detailedMetric ?? false,
      policy: compilePolicy({ algorithm, limit: requestsPerUnit, periodMs: UNIT_MS[unit] }),
      path: base?.path ?? `${domain}: override`,
    };
    const key = JSON.stringify([
      domain,
      ...descriptor.entries.flatMap((e) => [e.key, e.value]),
      `override:${requestsPerUnit}/${unit}`,
    ]);
    return { rule, key };
  }

  private async decide(domain: string, match: RuleMatch, cost: number): Promise<DescriptorStatus> {
    const { rule, key } = match;
    const ruleInfo = {
      name: rule.name,
      requestsPerUnit: rule.requestsPerUnit,
      unit: rule.unit,
      unlimited: rule.unlimited,
    };
    const metricRule = rule.named ? rule.name : rule.path;
    if (rule.unlimited || rule.policy === undefined) {
      this.options.metrics?.record(
        domain,
        metricRule,
        cost,
        { allowed: true, limit: 0, remaining: 0 },
        false,
      );
      return {
        code: "OK",
        rule: ruleInfo,
        limitRemaining: UNLIMITED_REMAINING,
        durationUntilResetMs: 0,
        retryAfterMs: 0,
        shadowed: false,
      };
    }
    const cacheKey = `${rule.policy.algorithm}:${key}`;
    let decision: GuardedDecision | Decision | undefined = this.options.overLimitCache?.lookup(
      cacheKey,
      cost,
    );
    const cached = decision !== undefined;
    if (decision === undefined) {
      decision = await this.options.store.decide(key, rule.policy, cost);
      if (!decision.allowed && !("degraded" in decision && decision.degraded !== undefined)) {
        this.options.overLimitCache?.remember(cacheKey, cost, decision);
      }
    }
    const shadow = rule.shadowMode || this.options.shadowMode === true;
    this.options.metrics?.record(domain, metricRule, cost, decision, shadow);
    if (!decision.allowed && shadow) this.options.onShadowDeny?.(domain, metricRule, key);
    const status: DescriptorStatus = {
      code: decision.allowed || shadow ? "OK" : "OVER_LIMIT",
      rule: ruleInfo,
      limitRemaining: decision.remaining,
      durationUntilResetMs: decision.resetMs,
      retryAfterMs: decision.retryAfterMs,
      shadowed: !decision.allowed && shadow,
    };
    if ("degraded" in decision && decision.degraded !== undefined)
      status.degraded = decision.degraded;
    if (cached) status.cached = true;
    return status;
  }
}

function noRule(): DescriptorStatus {
  return {
    code: "OK",
    limitRemaining: 0,
    durationUntilResetMs: 0,
    retryAfterMs: 0,
    shadowed: false,
  };
}
