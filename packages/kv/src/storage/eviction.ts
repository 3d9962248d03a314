/**
 * Eviction policies of the memory engine, and Redis's LFU counter.
 *
 * - `lru`: exact least-recently-used. The engine's Map is kept in recency
 *   order (a read moves the key to the end), so the victim is the first key.
 *   Redis samples 5 keys instead; exact is cheap here because a JS Map is an
 *   ordered hash table.
 * - `fifo`: the key inserted first goes first; reads and overwrites do not move it.
 * - `lfu`: Redis's logarithmic, decaying 8-bit access counter
 *   (`lfu-log-factor` 10, `lfu-decay-time` 1 minute, new keys start at 5),
 *   with exact victim choice: keys sit in 256 buckets by counter and the
 *   victim is the oldest key of the lowest non-empty bucket. Like Redis, a
 *   counter decays only when its key is touched, so an untouched key keeps
 *   its old count until then.
 * - `noeviction`: writes are refused with Redis's OOM error once over maxmemory.
 */
import { LFU_DECAY_MINUTES, LFU_INIT_VALUE, LFU_LOG_FACTOR } from "../limits.js";

export const EVICTION_POLICIES = ["noeviction", "lru", "lfu", "fifo"] as const;
export type EvictionPolicy = (typeof EVICTION_POLICIES)[number];

/** Redis spellings accepted for maxmemory-policy, mapped to ours (allkeys-* only). */
export const EVICTION_POLICY_ALIASES: Readonly<Record<string, EvictionPolicy>> = {
  noeviction: "noeviction",
  lru: "lru",
  lfu: "lfu",
  fifo: "fifo",
  "allkeys-lru": "lru",
  "allkeys-lfu": "lfu",
};

export const LFU_COUNTER_MAX = 255;

/** Redis LFULogIncr: the higher the counter, the less likely an access increments it. */
export function lfuIncrement(counter: number, random: () => number): number {
  if (counter >= LFU_COUNTER_MAX) return LFU_COUNTER_MAX;
  const base = Math.max(0, counter - LFU_INIT_VALUE);
  const probability = 1 / (base * LFU_LOG_FACTOR + 1);
  return random() < probability ? counter + 1 : counter;
}

/** Redis LFUDecrAndReturn: one step down per LFU_DECAY_MINUTES since the last access. */
export function lfuDecay(counter: number, lastAccessMinutes: number, nowMinutes: number): number {
  const periods = Math.floor((nowMinutes - lastAccessMinutes) / LFU_DECAY_MINUTES);
  return periods > 0 ? Math.max(0, counter - periods) : counter;
}

export { LFU_INIT_VALUE };
