/**
 * Redis store: each decision is one EVALSHA of the algorithm's Lua script
 * (re-sent with EVAL if the server answers NOSCRIPT, e.g. after a restart or
 * SCRIPT FLUSH). The clock is Redis TIME unless one is injected, so limiter
 * instances on different machines share one clock. Keys look like
 * `<prefix>{<key>}:<algorithm>`: the braces are a Redis Cluster hash tag, so
 * a key's state always lives in one slot.
 *
 * The fixed window on Redis's clock (the common case) has its own script and
 * state layout (a counter key that expires at the window end; see
 * FIXED_WINDOW_SERVER_CLOCK) and its own short reply, decoded here.
 */
import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { type Decision, RETRY_NEVER } from "../decision.js";
import { RateLimitError } from "../errors.js";
import { type AlgorithmName, type CompiledPolicy, validateCost } from "../policy.js";
import { FIXED_WINDOW_SERVER_CLOCK, LUA_SCRIPTS } from "./redis-scripts.js";
import { ALGORITHM_KEY_SUFFIX, KEY_LENGTH_MAX, type RateLimitStore } from "./store.js";

export const REDIS_KEY_PREFIX_DEFAULT = "rl:";

export interface RedisStoreOptions {
  /** An ioredis client or cluster; the store does not own it unless `ownsClient`. */
  client: Redis | Cluster;
  /** Prepended to every key; must not contain braces (they would break the hash tag). */
  prefix?: string;
  /** Inject a clock (ms) instead of Redis TIME: for tests and replays only. */
  clock?: () => number;
  /** close() also quits the client. */
  ownsClient?: boolean;
}

/** ioredis states in which a command would only wait in the offline queue. */
const UNAVAILABLE_STATUSES = new Set(["reconnecting", "close", "end"]);

interface LoadedScript {
  source: string;
  sha: string;
}

export class RedisStore implements RateLimitStore {
  readonly name = "redis";
  readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly clock: (() => number) | undefined;
  private readonly ownsClient: boolean;
  private readonly scripts: Record<AlgorithmName, LoadedScript>;
  /** The fixed window's script on Redis's clock; undefined with an injected clock. */
  private readonly fixedWindowServerClock: LoadedScript | undefined;
  /** The policy part of ARGV, rendered once per compiled policy. */
  private readonly policyArguments = new WeakMap<CompiledPolicy, string[]>();
  /** Decisions made and script reloads (NOSCRIPT), for round-trip accounting. */
  decisions = 0;
  scriptReloads = 0;

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? REDIS_KEY_PREFIX_DEFAULT;
    if (/[{}]/.test(this.prefix)) {
      throw new RateLimitError(
        "SCALEOUT_RL_INVALID_KEY",
        `prefix "${this.prefix}" must not contain { or }`,
      );
    }
    this.clock = options.clock;
    this.ownsClient = options.ownsClient ?? false;
    const scripts = {} as Record<AlgorithmName, LoadedScript>;
    for (const [name, source] of Object.entries(LUA_SCRIPTS) as [AlgorithmName, string][]) {
      scripts[name] = loadedScript(source);
    }
    this.scripts = scripts;
    this.fixedWindowServerClock =
      this.clock === undefined ? loadedScript(FIXED_WINDOW_SERVER_CLOCK) : undefined;
  }

  /** The Redis key holding `key`'s state for an algorithm. */
  redisKey(key: string, algorithm: AlgorithmName): string {
    return `${this.prefix}{${key}}:${ALGORITHM_KEY_SUFFIX[algorithm]}`;
  }

  /**
   * Not `async`, and one `.then` per call: this is the hot path, and an async
   * wrapper around the client's promise costs a promise and a resumption per
   * decision. Argument errors still arrive as rejections.
   */
  decide(key: string, policy: CompiledPolicy, cost: number): Promise<Decision> {
    try {
      validateCost(cost);
    } catch (error) {
      return Promise.reject(error);
    }
    if (key.length > KEY_LENGTH_MAX) {
      return Promise.reject(
        new RateLimitError("SCALEOUT_RL_INVALID_KEY", `key longer than ${KEY_LENGTH_MAX}`),
      );
    }
    if (UNAVAILABLE_STATUSES.has(this.client.status)) {
      return Promise.reject(
        new RateLimitError("SCALEOUT_RL_STORE_FAILED", `redis connection is ${this.client.status}`),
      );
    }
    const redisKey = this.redisKey(key, policy.algorithm);
    const costArgument = cost === 1 ? "1" : String(cost);
    const policyArgs = this.policyArgumentsOf(policy);
    if (policy.algorithm === "fixed_window" && this.fixedWindowServerClock !== undefined) {
      // ARGV: cost, limit, period (see FIXED_WINDOW_SERVER_CLOCK).
      const args = [costArgument, policyArgs[0]!, policyArgs[1]!];
      return this.run(this.fixedWindowServerClock, redisKey, args, (reply) =>
        fixedWindowDecision(reply, policy, cost),
      );
    }
    const nowArg = this.clock === undefined ? "" : String(Math.floor(this.clock()));
    const args = [nowArg, costArgument, ...policyArgs];
    return this.run(this.scripts[policy.algorithm], redisKey, args, (reply) =>
      toDecision(reply, policy),
    );
  }

  /**
   * One EVALSHA, its reply decoded; on NOSCRIPT (restart, SCRIPT FLUSH) the
   * script is re-sent once with EVAL.
   */
  private run(
    script: LoadedScript,
    redisKey: string,
    args: string[],
    decode: (reply: unknown) => Decision,
  ): Promise<Decision> {
    const decided = (reply: unknown): Decision => {
      this.decisions++;
      return decode(reply);
    };
    return this.client
      .evalsha(script.sha, "1", redisKey, ...args)
      .then(decided, (error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        this.scriptReloads++;
        return this.client.eval(script.source, "1", redisKey, ...args).then(decided);
      });
  }

  private policyArgumentsOf(policy: CompiledPolicy): string[] {
    let policyArgs = this.policyArguments.get(policy);
    if (policyArgs === undefined) {
      policyArgs = scriptArguments(policy);
      this.policyArguments.set(policy, policyArgs);
    }
    return policyArgs;
  }

  async ping(): Promise<boolean> {
    if (UNAVAILABLE_STATUSES.has(this.client.status)) return false;
    try {
      return (await this.client.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  /** Loads every script ahead of traffic, so the first decisions need no EVAL. */
  async loadScripts(): Promise<void> {
    for (const script of Object.values(this.scripts)) {
      await this.client.script("LOAD", script.source);
    }
    if (this.fixedWindowServerClock !== undefined) {
      await this.client.script("LOAD", this.fixedWindowServerClock.source);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) {
      try {
        await this.client.quit();
      } catch {
        this.client.disconnect();
      }
    }
  }
}

function loadedScript(source: string): LoadedScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** The compiled policy numbers each script reads from ARGV[3..]. */
function scriptArguments(policy: CompiledPolicy): string[] {
  switch (policy.algorithm) {
    case "token_bucket":
      return [String(policy.capacity), String(policy.unitScale), String(policy.refillPerMs)];
    case "leaking_bucket":
      return [
        String(policy.capacity),
        String(policy.unitScale),
        String(policy.refillPerMs),
        policy.queue ? "1" : "0",
        String(policy.maxWaitMs),
      ];
    case "fixed_window":
    case "sliding_window_log":
    case "sliding_window_counter":
      return [String(policy.limit), String(policy.periodMs)];
    case "gcra":
      // 17 significant digits round-trip the doubles exactly.
      return [
        String(policy.capacity),
        policy.emissionIntervalMs.toPrecision(17),
        policy.toleranceMs.toPrecision(17),
      ];
  }
}

function toDecision(reply: unknown, policy: CompiledPolicy): Decision {
  if (!Array.isArray(reply) || reply.length !== 5 || typeof reply[0] !== "number") {
    throw new RateLimitError(
      "SCALEOUT_RL_STORE_FAILED",
      `unexpected script reply ${JSON.stringify(reply)}`,
    );
  }
  const [allowed, remaining, resetMs, retryAfterMs, delayMs] = reply as number[];
  return {
    allowed: allowed === 1,
    limit: policy.limit,
    remaining: remaining!,
    resetMs: resetMs!,
    retryAfterMs: retryAfterMs!,
    delayMs: delayMs!,
  };
}

/**
 * Decodes FIXED_WINDOW_SERVER_CLOCK's reply {count including this request,
 * ms to the window end} into the decision the fixed window algorithm gives:
 * admitted iff the count fits; a denied request was taken back out, so its
 * remaining quota is counted without it.
 */
function fixedWindowDecision(reply: unknown, policy: CompiledPolicy, cost: number): Decision {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== "number") {
    throw new RateLimitError(
      "SCALEOUT_RL_STORE_FAILED",
      `unexpected script reply ${JSON.stringify(reply)}`,
    );
  }
  const count = reply[0] as number;
  const resetMs = reply[1] as number;
  if (count <= policy.limit) {
    return {
      allowed: true,
      limit: policy.limit,
      remaining: policy.limit - count,
      resetMs,
      retryAfterMs: 0,
      delayMs: 0,
    };
  }
  return {
    allowed: false,
    limit: policy.limit,
    remaining: policy.limit - (count - cost),
    resetMs,
    retryAfterMs: cost > policy.limit ? RETRY_NEVER : resetMs,
    delayMs: 0,
  };
}
