/**
 * Wraps a (remote) store so a slow or dead store never hangs a request: each
 * call has a timeout; on failure or timeout the decision comes from an
 * optional fallback store (usually memory), or fails open (allow) or closed
 * (deny) as configured. Every failure is emitted as a "failure" event and
 * counted in the metrics.
 */
import { EventEmitter } from "node:events";
import type { Decision } from "../decision.js";
import { isRateLimitError, RateLimitError } from "../errors.js";
import type { RateLimitMetrics } from "../metrics.js";
import type { CompiledPolicy } from "../policy.js";
import type { RateLimitStore } from "./store.js";

/** Default per-call budget: a Redis round trip on a LAN is ~0.2 ms; 100 ms means trouble. */
export const STORE_TIMEOUT_MS_DEFAULT = 100;

export type FailureMode = "open" | "closed";

export interface GuardedStoreOptions {
  store: RateLimitStore;
  timeoutMs?: number;
  /** What to answer when the store fails and there is no fallback. Defaults to "open". */
  failureMode?: FailureMode;
  /** Decides instead of the failed store (per-instance limits, better than nothing). */
  fallback?: RateLimitStore;
  metrics?: RateLimitMetrics;
}

export type FailureOutcome = "fallback" | "fail-open" | "fail-closed";

export interface StoreFailureEvent {
  store: string;
  key: string;
  reason: "timeout" | "error";
  outcome: FailureOutcome;
  error: Error;
}

export interface GuardedDecision extends Decision {
  /** Set when the primary store failed and the answer came from elsewhere. */
  degraded?: FailureOutcome;
}

export class GuardedStore extends EventEmitter implements RateLimitStore {
  readonly name: string;
  readonly store: RateLimitStore;
  private readonly timeoutMs: number;
  private readonly failureMode: FailureMode;
  private readonly fallback: RateLimitStore | undefined;
  private readonly metrics: RateLimitMetrics | undefined;
  private readonly latency: { observe(seconds: number): void } | undefined;
  failures = 0;

  constructor(options: GuardedStoreOptions) {
    super();
    this.store = options.store;
    this.name = options.store.name;
    this.timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS_DEFAULT;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs ${this.timeoutMs} must be > 0`);
    }
    this.failureMode = options.failureMode ?? "open";
    this.fallback = options.fallback;
    this.metrics = options.metrics;
    this.latency = options.metrics?.decisionSeconds.labels({ store: this.name });
  }

  async decide(key: string, policy: CompiledPolicy, cost: number): Promise<GuardedDecision> {
    const started = performance.now();
    try {
      const decision = await withTimeout(this.store.decide(key, policy, cost), this.timeoutMs);
      this.latency?.observe((performance.now() - started) / 1000);
      return decision;
    } catch (error) {
      // Caller mistakes (bad cost, key too long) are not store failures.
      if (
        isRateLimitError(error, "SCALEOUT_RL_INVALID_COST") ||
        isRateLimitError(error, "SCALEOUT_RL_INVALID_KEY")
      ) {
        throw error;
      }
      return this.onFailure(key, policy, cost, error);
    }
  }

  private async onFailure(
    key: string,
    policy: CompiledPolicy,
    cost: number,
    cause: unknown,
  ): Promise<GuardedDecision> {
    this.failures++;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    const reason = isRateLimitError(error, "SCALEOUT_RL_STORE_TIMEOUT") ? "timeout" : "error";
    let outcome: FailureOutcome = this.failureMode === "open" ? "fail-open" : "fail-closed";
    let decision: Decision | undefined;
    if (this.fallback !== undefined) {
      try {
        decision = await this.fallback.decide(key, policy, cost);
        outcome = "fallback";
      } catch {
        decision = undefined;
      }
    }
    this.metrics?.storeErrors.inc({ store: this.name, reason, outcome });
    const event: StoreFailureEvent = { store: this.name, key, reason, outcome, error };
    if (this.listenerCount("failure") > 0) this.emit("failure", event);
    if (decision !== undefined) return { ...decision, degraded: outcome };
    const allowed = outcome === "fail-open";
    return {
      allowed,
      limit: policy.limit,
      remaining: allowed ? policy.limit : 0,
      resetMs: policy.periodMs,
      retryAfterMs: allowed ? 0 : policy.periodMs,
      delayMs: 0,
      degraded: outcome,
    };
  }

  ping(): Promise<boolean> {
    return withTimeout(this.store.ping(), this.timeoutMs).catch(() => false);
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.fallback?.close();
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RateLimitError("SCALEOUT_RL_STORE_TIMEOUT", `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
