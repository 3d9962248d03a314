/** The lsm engine's row cache: bounded by bytes, CLOCK eviction (row-cache.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CachedRow, ROW_CACHE_ENTRY_OVERHEAD_BYTES, RowCache } from "../src/storage/row-cache.js";

const row = (text: string) => new CachedRow(Buffer.from(text), 0, 0, 1);

describe("row cache", () => {
  it("never holds more than its capacity and answers what was last set for a key, or nothing", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant("set" as const),
              key: fc.integer({ min: 0, max: 30 }),
              value: fc.string({ maxLength: 40 }),
            }),
            fc.record({ op: fc.constant("get" as const), key: fc.integer({ min: 0, max: 30 }) }),
            fc.record({ op: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 30 }) }),
          ),
          { maxLength: 200 },
        ),
        (operations) => {
          const capacity = 1500;
          const cache = new RowCache(capacity);
          const last = new Map<string, string>();
          for (const operation of operations) {
            const key = `k${operation.key}`;
            if (operation.op === "set") {
              cache.set(key, row(operation.value));
              last.set(key, operation.value);
            } else if (operation.op === "delete") {
              cache.delete(key);
              last.delete(key);
            } else {
              const got = cache.get(key);
              if (got !== undefined) expect(Buffer.from(got.value).toString()).toBe(last.get(key));
            }
            expect(cache.usedBytes).toBeLessThanOrEqual(capacity);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives a recently read entry a second chance over one never read", () => {
    const size = 3 + 1 + ROW_CACHE_ENTRY_OVERHEAD_BYTES; // "kNN" + one-byte value
    const cache = new RowCache(10 * size);
    for (let i = 10; i < 20; i++) cache.set(`k${i}`, row("v"));
    expect(cache.get("k10")).toBeDefined();
    // Over capacity: k10 is the oldest but was read, so k11 goes.
    cache.set("k20", row("v"));
    expect(cache.size).toBe(10);
    expect(cache.get("k11")).toBeUndefined();
    for (const kept of ["k10", "k12", "k19", "k20"]) expect(cache.get(kept), kept).toBeDefined();
  });
});
