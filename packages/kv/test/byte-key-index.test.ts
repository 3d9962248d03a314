/** The memory engine's byte-keyed index against a Map model (byte-key-index.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteKeyIndex } from "../src/storage/byte-key-index.js";

describe("byte key index", () => {
  it("answers like a Map through adds, deletes, rebuilds and arena compaction", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("add", "add", "delete", "delete", "get", "clear"),
            // Few distinct keys (shared prefixes, lengths 0..40), so deletes hit and the arena churns.
            fc.integer({ min: 0, max: 400 }),
          ),
          { minLength: 2000, maxLength: 4000 },
        ),
        (operations) => {
          // A 64-byte arena to start: it grows and compacts many times per run.
          const index = new ByteKeyIndex<number>(64);
          const model = new Map<string, number>();
          operations.forEach(([op, n], step) => {
            const key = Buffer.from(`k${n}-`.repeat(8).slice(0, n % 41), "latin1");
            const name = key.toString("latin1");
            if (op === "add") {
              if (model.has(name)) return;
              index.add(key, step);
              model.set(name, step);
            } else if (op === "delete") {
              expect(index.delete(key)).toBe(model.delete(name));
            } else if (op === "clear") {
              if (step % 7 !== 0) return;
              index.clear();
              model.clear();
            }
            expect(index.get(key)).toBe(model.get(name));
            expect(index.size).toBe(model.size);
          });
          for (const [name, value] of model) {
            expect(index.get(Buffer.from(name, "latin1"))).toBe(value);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("keeps every live key findable after deletes compact its arena", () => {
    const index = new ByteKeyIndex<number>(64);
    const key = (i: number) => Buffer.from(`user:${i}:${"x".repeat(i % 17)}`);
    for (let i = 0; i < 5000; i++) index.add(key(i), i);
    // Delete three in four: dead bytes pass half, and the next growth compacts.
    for (let i = 0; i < 5000; i++) if (i % 4 !== 0) expect(index.delete(key(i))).toBe(true);
    for (let i = 5000; i < 10_000; i++) index.add(key(i), i);
    expect(index.size).toBe(1250 + 5000);
    for (let i = 0; i < 10_000; i++) {
      expect(index.get(key(i)), `key ${i}`).toBe(i < 5000 && i % 4 !== 0 ? undefined : i);
    }
  });
});
