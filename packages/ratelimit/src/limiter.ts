/**
 * The library's front door: one policy, one store, decisions per key. For a
 * leaking bucket in queue mode, `take` waits the decision's delay so callers
 * leave at the constant rate (the chapter's "enqueue and process later").
 */
import { setTimeout as sleep } from "node:timers/promises";
import { RateLimitError } from "./errors.js";
import { type CompiledPolicy, compilePolicy, type Policy, validateCost } from "./policy.js";
import type { GuardedDecision } from "./stores/guarded-store.js";
import { MemoryStore } from "./stores/memory-store.js";
import type { RateLimitStore } from "./stores/store.js";

export interface RateLimiterOptions {
  policy: Policy;
  /** Defaults to a new MemoryStore. Wrap a remote store in GuardedStore for timeouts and failure modes. */
  store?: RateLimitStore;
}

export class RateLimiter {
  readonly policy: CompiledPolicy;
  readonly store: RateLimitStore;

  constructor(options: RateLimiterOptions) {
    this.policy = compilePolicy(options.policy);
    this.store = options.store ?? new MemoryStore();
  }

  /** Decides for `key` and records the hit if admitted. */
  async consume(key: string, cost = 1): Promise<GuardedDecision> {
    validateCost(cost);
    return this.store.decide(key, this.policy, cost);
  }

  /**
   * Consumes and, if admitted with a delay (leaking bucket queue mode), waits it
   * out before resolving. Rejects when denied: SCALEOUT_RL_QUEUE_FULL for a
   * leaking bucket in queue mode, SCALEOUT_RL_OVER_LIMIT otherwise.
   */
  async take(key: string, cost = 1, signal?: AbortSignal): Promise<GuardedDecision> {
    const decision = await this.consume(key, cost);
    if (!decision.allowed) {
      throw new RateLimitError(
        this.policy.queue ? "SCALEOUT_RL_QUEUE_FULL" : "SCALEOUT_RL_OVER_LIMIT",
        `key "${key}" is over its limit; retry after ${decision.retryAfterMs} ms`,
      );
    }
    if (decision.delayMs > 0)
      await sleep(decision.delayMs, undefined, signal ? { signal } : undefined);
    return decision;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
