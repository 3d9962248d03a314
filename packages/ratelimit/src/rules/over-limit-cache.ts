/**
 * Local over-limit cache (as envoy's ratelimit has): once a key is denied,
 * requests of at least the same cost are denied locally until the retry time
 * the store gave, without a store round trip. Under attack, this turns most
 * of the flood into memory lookups.
 */
import type { Decision } from "../decision.js";

/** Bounded so a flood of distinct keys cannot grow it without limit. */
export const OVER_LIMIT_CACHE_KEYS_MAX_DEFAULT = 100_000;

interface CachedDenial {
  cachedAtMs: number;
  untilMs: number;
  cost: number;
  decision: Decision;
}

export class OverLimitCache {
  private readonly entries = new Map<string, CachedDenial>();
  hits = 0;

  constructor(
    private readonly maxKeys = OVER_LIMIT_CACHE_KEYS_MAX_DEFAULT,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A cached denial for `key` valid now, with its retry time brought up to date. */
  lookup(key: string, cost: number): Decision | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const nowMs = this.clock();
    if (entry.untilMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    if (cost < entry.cost) return undefined;
    this.hits++;
    const leftMs = Math.ceil(entry.untilMs - nowMs);
    const resetMs = Math.max(leftMs, entry.decision.resetMs - (nowMs - entry.cachedAtMs));
    return { ...entry.decision, retryAfterMs: leftMs, resetMs };
  }

  remember(key: string, cost: number, decision: Decision): void {
    if (decision.allowed || decision.retryAfterMs <= 0) return;
    if (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    const nowMs = this.clock();
    this.entries.set(key, {
      cachedAtMs: nowMs,
      untilMs: nowMs + decision.retryAfterMs,
      cost,
      decision,
    });
  }

  /** Forgets every cached denial (the service calls this when rules change). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
