/**
 * The memory engine's accounting and eviction policies, checked against
 * reference models with fast-check: LRU evicts the least recently used key,
 * FIFO the oldest insertion, LFU the least frequently used, noeviction refuses.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD_BYTES } from "../src/limits.js";
import { lfuDecay, lfuIncrement } from "../src/storage/eviction.js";
import { MemoryStore } from "../src/storage/memory.js";

const VALUE = new Uint8Array(10);
const ENTRY_BYTES = 2 * 1 + VALUE.length + ENTRY_OVERHEAD_BYTES;
const key = fc.constantFrom(..."abcdefgh".split(""));
const step = fc.oneof(
  fc.record({ op: fc.constant("put" as const), key }),
  fc.record({ op: fc.constant("get" as const), key }),
);

function run(policy: "lru" | "fifo", steps: { op: "put" | "get"; key: string }[]): void {
  const capacity = 4;
  const store = new MemoryStore({ maxMemoryBytes: capacity * ENTRY_BYTES, eviction: policy });
  // Reference: an ordered list; LRU moves a key to the back on any access, FIFO only on first insert.
  let order: string[] = [];
  for (const { op, key: name } of steps) {
    const bytes = Buffer.from(name);
    if (op === "put") {
      expect(store.admitWrite()).toBe(true);
      // Admission happens before the write (as in Redis), so the model evicts first too.
      while (order.length > capacity) order.shift();
      store.put(bytes, VALUE, { expiresAtMs: 0, flags: 0 });
      if (!order.includes(name)) order.push(name);
      else if (policy === "lru") order = [...order.filter((k) => k !== name), name];
    } else {
      const hit = store.get(bytes) !== undefined;
      expect(hit).toBe(order.includes(name));
      if (hit && policy === "lru") order = [...order.filter((k) => k !== name), name];
    }
  }
  const stats = store.stats();
  expect(stats.usedMemoryBytes).toBe(order.length * ENTRY_BYTES);
}

describe("memory engine eviction", () => {
  it("LRU evicts exactly the least recently used key", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => run("lru", steps)),
      { numRuns: 200 },
    );
  });

  it("FIFO evicts exactly the oldest inserted key", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => run("fifo", steps)),
      { numRuns: 200 },
    );
  });

  it("LFU keeps frequently read keys and evicts rarely read ones", () => {
    // Room for the 10 hot keys (4-byte names) and one cold key (up to 6-byte names).
    const store = new MemoryStore({
      maxMemoryBytes: 11 * (6 + VALUE.length + ENTRY_OVERHEAD_BYTES),
      eviction: "lfu",
      random: () => 0,
    });
    for (let i = 0; i < 10; i++)
      store.put(Buffer.from(`hot${i}`), VALUE, { expiresAtMs: 0, flags: 0 });
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) store.get(Buffer.from(`hot${i}`));
    }
    for (let i = 0; i < 30; i++) {
      expect(store.admitWrite()).toBe(true);
      store.put(Buffer.from(`cold${i}`), VALUE, { expiresAtMs: 0, flags: 0 });
    }
    for (let i = 0; i < 10; i++) expect(store.get(Buffer.from(`hot${i}`))).toBeDefined();
    expect(store.stats().evictedKeys).toBeGreaterThan(0);
  });

  it("LFU counter grows logarithmically and decays with idle minutes, like Redis", () => {
    let counter = 5;
    for (let i = 0; i < 1000; i++) counter = lfuIncrement(counter, Math.random);
    expect(counter).toBeGreaterThan(5);
    expect(counter).toBeLessThan(60);
    expect(lfuIncrement(255, () => 0)).toBe(255);
    expect(lfuDecay(10, 100, 103)).toBe(7);
    expect(lfuDecay(2, 0, 100)).toBe(0);
  });

  it("noeviction refuses writes past maxmemory and never drops keys", () => {
    const store = new MemoryStore({ maxMemoryBytes: 3 * ENTRY_BYTES, eviction: "noeviction" });
    let refused = 0;
    for (const name of "abcdef") {
      if (!store.admitWrite()) {
        refused++;
        continue;
      }
      store.put(Buffer.from(name), VALUE, { expiresAtMs: 0, flags: 0 });
    }
    expect(refused).toBeGreaterThan(0);
    expect(store.stats().evictedKeys).toBe(0);
    expect(store.count()).toBe(4);
    store.delete(Buffer.from("a"));
    store.delete(Buffer.from("b"));
    expect(store.admitWrite()).toBe(true);
  });

  it("switches policy at run time", () => {
    const store = new MemoryStore({ maxMemoryBytes: 2 * ENTRY_BYTES, eviction: "noeviction" });
    for (const name of "abc") store.put(Buffer.from(name), VALUE, { expiresAtMs: 0, flags: 0 });
    expect(store.admitWrite()).toBe(false);
    store.setEvictionPolicy("lfu");
    expect(store.admitWrite()).toBe(true);
    expect(store.count()).toBe(2);
  });
});
