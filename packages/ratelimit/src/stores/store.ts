import type { Decision } from "../decision.js";
import type { CompiledPolicy } from "../policy.js";

/**
 * Where per-key state lives. A store applies one algorithm step atomically:
 * read the key's state, decide, write the new state, in one operation (one
 * synchronous step in memory, one Lua script in Redis).
 */
export interface RateLimitStore {
  /** Short name for logs and metrics ("memory", "redis"). */
  readonly name: string;
  decide(key: string, policy: CompiledPolicy, cost: number): Promise<Decision>;
  /** Reachable and able to decide right now (used by readiness checks). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Longest key accepted, in UTF-16 code units: keys come from the network. */
export const KEY_LENGTH_MAX = 1024;

/** The per-algorithm suffix keeps states of different shapes apart under one user key. */
export const ALGORITHM_KEY_SUFFIX = {
  token_bucket: "tb",
  leaking_bucket: "lb",
  fixed_window: "fw",
  sliding_window_log: "swl",
  sliding_window_counter: "swc",
  gcra: "gcra",
} as const;
