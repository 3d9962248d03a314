/** The stores every conformance case runs against, each with a controllable clock. */
import { Redis } from "ioredis";
import { MemoryStore } from "../../src/stores/memory-store.js";
import { RedisStore } from "../../src/stores/redis-store.js";
import type { RateLimitStore } from "../../src/stores/store.js";

export interface ManualClock {
  nowMs: number;
  read: () => number;
}

export function manualClock(startMs: number): ManualClock {
  const clock: ManualClock = { nowMs: startMs, read: () => clock.nowMs };
  return clock;
}

export type StoreFactory = (clock: () => number) => RateLimitStore;

export function storeFactories(redisPort: () => number): Record<string, StoreFactory> {
  return {
    memory: (clock) => new MemoryStore({ clock }),
    redis: (clock) =>
      new RedisStore({
        client: new Redis({ port: redisPort(), host: "127.0.0.1", lazyConnect: false }),
        clock,
        prefix: `t${process.pid}:`,
        ownsClient: true,
      }),
  };
}
