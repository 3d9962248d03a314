/**
 * The storage seam: a node serves any KeyValueStore handed to it (as the
 * cluster coordinator will). Here a store that answers every call a few
 * event-loop turns later — the worst case for atomicity — must still keep
 * INCR, SET NX, MSETNX and RENAME atomic across concurrent pipelined clients.
 */

import { freePort } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvNode } from "../src/node.js";
import { DEFAULT_NODE_CONFIG } from "../src/server/config.js";
import { MemoryStore } from "../src/storage/memory.js";
import type {
  KeyValueStore,
  PutItem,
  ScanPage,
  StoredEntry,
  WriteOptions,
} from "../src/storage/store.js";

const later = <T>(value: () => T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value()), Math.random() < 0.5 ? 0 : 1));

/** A MemoryStore whose every answer arrives asynchronously, after a random delay. */
class SlowStore implements KeyValueStore {
  readonly engine = "lsm" as const;
  private readonly inner = new MemoryStore({ maxMemoryBytes: 0, eviction: "noeviction" });
  get(key: Uint8Array): Promise<StoredEntry | undefined> {
    return later(() => this.inner.get(key));
  }
  put(key: Uint8Array, value: Uint8Array, options: WriteOptions): Promise<StoredEntry> {
    return later(() => this.inner.put(key, value, options));
  }
  putMany(items: readonly PutItem[]): Promise<void> {
    return later(() => this.inner.putMany(items));
  }
  delete(key: Uint8Array): Promise<boolean> {
    return later(() => this.inner.delete(key));
  }
  count(): Promise<number> {
    return later(() => this.inner.count());
  }
  scan(cursor: string, count: number): Promise<ScanPage> {
    return later(() => this.inner.scan(cursor, count));
  }
  keys(): AsyncIterable<Uint8Array> {
    return this.inner.keys();
  }
  randomKey(): Promise<Uint8Array | undefined> {
    return later(() => this.inner.randomKey());
  }
  clear(): Promise<void> {
    return later(() => this.inner.clear());
  }
  admitWrite(): boolean {
    return true;
  }
  activeExpireCycle(): number {
    return this.inner.activeExpireCycle();
  }
  stats() {
    return this.inner.stats();
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe("a node over a custom asynchronous store", () => {
  let node: KvNode;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    node = await KvNode.start(
      { ...DEFAULT_NODE_CONFIG, port, memcachedPort: 0, httpPort: 0, logLevel: "silent" },
      { store: new SlowStore() },
    );
  });

  afterAll(async () => {
    await node?.close();
  });

  it("keeps single commands atomic under concurrency", async () => {
    const clients = Array.from({ length: 5 }, () => new Redis({ port, host: "127.0.0.1" }));
    const renamed: (string | null)[] = [];
    await Promise.all(
      clients.map(async (client, index) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 100; i++) {
          pipeline.incr("counter");
          pipeline.set(`nx:${i}`, String(index), "NX");
          pipeline.msetnx(`m:${i}:a`, String(index), `m:${i}:b`, String(index));
        }
        await pipeline.exec();
      }),
    );
    const main = clients[0]!;
    expect(await main.get("counter")).toBe("500");
    for (let i = 0; i < 100; i++) {
      const [a, b] = await main.mget(`m:${i}:a`, `m:${i}:b`);
      // MSETNX is all-or-nothing: both keys come from the same client.
      expect(a).not.toBeNull();
      expect(a).toBe(b);
    }
    // RENAME races: exactly one of several concurrent renames of one key wins.
    await main.set("src", "v");
    const results = await Promise.allSettled(
      clients.map((client, index) => client.rename("src", `dst${index}`)),
    );
    renamed.push(...(await main.mget(...clients.map((_, index) => `dst${index}`))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(renamed.filter((value) => value === "v")).toHaveLength(1);
    for (const client of clients) client.disconnect();
  });
});
