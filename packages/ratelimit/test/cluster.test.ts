/**
 * The Redis store on a real three-master Redis Cluster through ioredis's
 * Cluster client: keys spread over the masters by their hash tag, and the
 * decisions match the memory store's on the same traffic.
 */
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALGORITHMS, compilePolicy } from "../src/policy.js";
import { MemoryStore } from "../src/stores/memory-store.js";
import { RedisStore } from "../src/stores/redis-store.js";
import { type RedisClusterHandle, startRedisCluster } from "./helpers/redis-cluster.js";
import { manualClock } from "./helpers/stores.js";

let cluster: RedisClusterHandle;
let client: Cluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
  client = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
});
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

describe("Redis Cluster", () => {
  it("decides like the memory store for every algorithm, with keys spread over the masters", async () => {
    const clock = manualClock(1_699_999_980_000);
    const redis = new RedisStore({ client, clock: clock.read, prefix: "c:" });
    const memory = new MemoryStore({ clock: clock.read });
    for (const algorithm of ALGORITHMS) {
      const policy = compilePolicy({ algorithm, limit: 5, periodMs: 1000 });
      for (let step = 0; step < 40; step++) {
        clock.nowMs += (step * 37) % 300;
        const key = `user:${step % 8}`;
        const cost = 1 + (step % 3);
        expect(await redis.decide(key, policy, cost)).toEqual(
          await memory.decide(key, policy, cost),
        );
      }
    }
    const perMaster = await Promise.all(client.nodes("master").map((node) => node.dbsize()));
    expect(perMaster.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
