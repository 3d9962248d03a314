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
  private readonly deadlines: DeadlineQueue;
  failures = 0;

  constructor(options: GuardedStoreOptions) {
    super();
    this.store = options.store;
    this.name = options.store.name;
    this.timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS_DEFAULT;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs ${this.timeoutMs} must be > 0`);
    }
    this.deadlines = new DeadlineQueue(this.timeoutMs);
    this.failureMode = options.failureMode ?? "open";
    this.fallback = options.fallback;
    this.metrics = options.metrics;
    this.latency = options.metrics?.decisionSeconds.labels({ store: this.name });
  }

  async decide(key: string, policy: CompiledPolicy, cost: number): Promise<GuardedDecision> {
    const started = performance.now();
    try {
      const decision = await this.deadlines.race(this.store.decide(key, policy, cost));
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
    return this.deadlines.race(this.store.ping()).catch(() => false);
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.fallback?.close();
  }
}

interface PendingCall {
  deadlineMs: number;
  settled: boolean;
  reject: (error: Error) => void;
}

/** Compact the queue's array once this many settled entries sit before its head. */
const DEADLINE_QUEUE_COMPACT_AT = 1024;

/**
 * Per-call timeouts without a timer per call (a setTimeout and clearTimeout
 * per decision are a measurable part of a Redis decision's client-side cost).
 * Every call of one store has the same budget, so deadlines come due in call
 * order: they wait in a FIFO queue and one timer is armed for the oldest
 * pending one. A call that settles in time is only marked settled; the timer
 * skips it and re-arms for the next. The timer holds the process open only
 * while some call is pending, as a per-call timer would.
 */
class DeadlineQueue {
  private readonly queue: PendingCall[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerHeld = false;

  constructor(private readonly timeoutMs: number) {}

  /** `promise`'s outcome, or SCALEOUT_RL_STORE_TIMEOUT if it takes longer than the budget. */
  race<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall = {
        deadlineMs: performance.now() + this.timeoutMs,
        settled: false,
        reject,
      };
      this.queue.push(call);
      this.arm();
      promise.then(
        (value) => {
          if (call.settled) return;
          call.settled = true;
          this.dropSettledHead();
          resolve(value);
        },
        (error: unknown) => {
          if (call.settled) return;
          call.settled = true;
          this.dropSettledHead();
          reject(error);
        },
      );
    });
  }

  private arm(): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(this.expire, this.timeoutMs);
      this.timerHeld = true;
    } else if (!this.timerHeld) {
      this.timer.ref();
      this.timerHeld = true;
    }
  }

  /** Settled calls at the front go at once, so the queue holds about the calls in flight. */
  private dropSettledHead(): void {
    const queue = this.queue;
    while (this.head < queue.length && queue[this.head]!.settled) this.head++;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
      // Nothing pending: the timer may still fire (and find nothing) but must not hold the process.
      if (this.timer !== undefined && this.timerHeld) {
        this.timer.unref();
        this.timerHeld = false;
      }
    } else if (this.head >= DEADLINE_QUEUE_COMPACT_AT) {
      queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const nowMs = performance.now();
    const queue = this.queue;
    while (this.head < queue.length) {
      const call = queue[this.head]!;
      if (!call.settled) {
        if (call.deadlineMs > nowMs) break;
        call.settled = true;
        call.reject(
          new RateLimitError("SCALEOUT_RL_STORE_TIMEOUT", `no answer within ${this.timeoutMs} ms`),
        );
      }
      this.head++;
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
      return;
    }
    const next = queue[this.head]!;
    this.timer = setTimeout(this.expire, Math.max(1, Math.ceil(next.deadlineMs - nowMs)));
    this.timerHeld = true;
  };
}
