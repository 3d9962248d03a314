/**
 * In-process store: a Map used as an LRU (re-inserting on access moves a key
 * to the end), bounded by maxKeys, with expired states dropped on access and
 * by a small sweep on every write. Decisions are synchronous, so concurrent
 * async callers cannot interleave inside one decision.
 */
import { ALGORITHM_BY_NAME } from "../algorithms/index.js";
import type { Decision } from "../decision.js";
import { RateLimitError } from "../errors.js";
import { type CompiledPolicy, validateCost } from "../policy.js";
import { ALGORITHM_KEY_SUFFIX, KEY_LENGTH_MAX, type RateLimitStore } from "./store.js";

/** Default bound on keys: ~100 bytes each for the small states, so ~10 MB. */
export const MEMORY_STORE_KEYS_MAX_DEFAULT = 100_000;
/** Expired entries examined per write: keeps reclaiming cheap and incremental. */
const SWEEP_ENTRIES_PER_WRITE = 4;

export interface MemoryStoreOptions {
  maxKeys?: number;
  /** Milliseconds since the epoch; injected for tests. Defaults to Date.now. */
  clock?: () => number;
}

interface Entry {
  state: unknown;
  expiresAtMs: number;
}

export class MemoryStore implements RateLimitStore {
  readonly name = "memory";
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;
  private readonly clock: () => number;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? MEMORY_STORE_KEYS_MAX_DEFAULT;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(`maxKeys ${this.maxKeys} must be a positive integer`);
    }
    this.clock = options.clock ?? Date.now;
  }

  /** Number of live keys (expired ones may linger until touched or swept). */
  get size(): number {
    return this.entries.size;
  }

  decide(key: string, policy: CompiledPolicy, cost: number): Promise<Decision> {
    try {
      return Promise.resolve(this.decideSync(key, policy, cost));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The same decision without a promise, for callers on a hot synchronous path. */
  decideSync(key: string, policy: CompiledPolicy, cost: number): Decision {
    if (this.closed) throw new RateLimitError("SCALEOUT_RL_STORE_CLOSED", "memory store");
    validateCost(cost);
    if (key.length > KEY_LENGTH_MAX) {
      throw new RateLimitError("SCALEOUT_RL_INVALID_KEY", `key longer than ${KEY_LENGTH_MAX}`);
    }
    const nowMs = Math.floor(this.clock());
    const storeKey = `${ALGORITHM_KEY_SUFFIX[policy.algorithm]}:${key}`;
    const entry = this.entries.get(storeKey);
    let state: unknown;
    if (entry !== undefined) {
      this.entries.delete(storeKey);
      if (entry.expiresAtMs > nowMs) state = entry.state;
    }
    const step = ALGORITHM_BY_NAME[policy.algorithm].decide(policy, state, nowMs, cost);
    if (step.ttlMs > 0) {
      this.entries.set(storeKey, { state: step.state, expiresAtMs: nowMs + step.ttlMs });
      this.reclaim(nowMs);
    }
    return step.decision;
  }

  private reclaim(nowMs: number): void {
    // The oldest entries sit at the front of the Map; drop expired ones, then evict over capacity.
    let examined = 0;
    for (const [key, entry] of this.entries) {
      if (examined++ >= SWEEP_ENTRIES_PER_WRITE) break;
      if (entry.expiresAtMs <= nowMs) this.entries.delete(key);
    }
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  ping(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  clear(): void {
    this.entries.clear();
  }

  close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    return Promise.resolve();
  }
}
