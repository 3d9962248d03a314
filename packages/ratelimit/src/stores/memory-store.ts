/**
 * In-process store. States live in one Map per algorithm (so lookups hash the
 * caller's key string as is, no concatenation). The bound on keys is kept
 * with the CLOCK approximation of LRU: a hit only sets a "used" flag, and
 * eviction takes the oldest entry, giving flagged ones a second chance. This
 * keeps the hot path to one Map lookup. Expired states are treated as absent
 * on access and reclaimed by a small sweep every few writes. Decisions are
 * synchronous, so concurrent async callers cannot interleave inside one.
 */
import { ALGORITHM_BY_NAME } from "../algorithms/index.js";
import type { Decision } from "../decision.js";
import { RateLimitError } from "../errors.js";
import { type AlgorithmName, type CompiledPolicy, validateCost } from "../policy.js";
import { KEY_LENGTH_MAX, type RateLimitStore } from "./store.js";

/** Default bound on keys: ~160 bytes of state each (measured) plus the key, so ~20-30 MB. */
export const MEMORY_STORE_KEYS_MAX_DEFAULT = 100_000;
/** A sweep for expired entries runs every this many inserts... */
const SWEEP_EVERY_INSERTS = 64;
/** ...and examines this many of the oldest entries. */
const SWEEP_ENTRIES = 32;

export interface MemoryStoreOptions {
  maxKeys?: number;
  /** Milliseconds since the epoch; injected for tests. Defaults to Date.now. */
  clock?: () => number;
}

interface Entry {
  state: unknown;
  expiresAtMs: number;
  used: boolean;
}

export class MemoryStore implements RateLimitStore {
  readonly name = "memory";
  private readonly maps = new Map<AlgorithmName, Map<string, Entry>>();
  private readonly maxKeys: number;
  private readonly clock: () => number;
  private keys = 0;
  private inserts = 0;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? MEMORY_STORE_KEYS_MAX_DEFAULT;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError(`maxKeys ${this.maxKeys} must be a positive integer`);
    }
    this.clock = options.clock ?? Date.now;
  }

  /** Number of stored keys (expired ones may linger until touched or swept). */
  get size(): number {
    return this.keys;
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
    let map = this.maps.get(policy.algorithm);
    if (map === undefined) {
      map = new Map();
      this.maps.set(policy.algorithm, map);
    }
    const entry = map.get(key);
    const state = entry !== undefined && entry.expiresAtMs > nowMs ? entry.state : undefined;
    const step = ALGORITHM_BY_NAME[policy.algorithm].decide(policy, state, nowMs, cost);
    if (entry !== undefined) {
      if (step.ttlMs > 0) {
        entry.state = step.state;
        entry.expiresAtMs = nowMs + step.ttlMs;
        entry.used = true;
      } else {
        map.delete(key);
        this.keys--;
      }
    } else if (step.ttlMs > 0) {
      map.set(key, { state: step.state, expiresAtMs: nowMs + step.ttlMs, used: false });
      this.keys++;
      if (++this.inserts % SWEEP_EVERY_INSERTS === 0) this.sweep(map, nowMs);
      if (this.keys > this.maxKeys) this.evict(map);
    }
    return step.decision;
  }

  /** Drops expired entries among the oldest; live ones go to the back. */
  private sweep(map: Map<string, Entry>, nowMs: number): void {
    let examined = 0;
    for (const [key, entry] of map) {
      if (examined++ >= SWEEP_ENTRIES) break;
      map.delete(key);
      if (entry.expiresAtMs <= nowMs) this.keys--;
      else map.set(key, entry);
    }
  }

  /** CLOCK: evict the oldest entry not used since its last pass. */
  private evict(preferred: Map<string, Entry>): void {
    const map = preferred.size > 0 ? preferred : [...this.maps.values()].find((m) => m.size > 0);
    if (map === undefined) return;
    while (this.keys > this.maxKeys) {
      const oldest = map.entries().next();
      if (oldest.done === true) return;
      const [key, entry] = oldest.value;
      map.delete(key);
      if (entry.used) {
        entry.used = false;
        map.set(key, entry);
      } else {
        this.keys--;
      }
    }
  }

  ping(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  clear(): void {
    this.maps.clear();
    this.keys = 0;
  }

  close(): Promise<void> {
    this.closed = true;
    this.clear();
    return Promise.resolve();
  }
}
