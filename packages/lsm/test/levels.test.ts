/**
 * Scans and reads across table boundaries in levels >= 1 (several 2 MiB tables
 * in one level), forward and reverse, with bounds that fall inside, between and
 * outside the tables; checked against a sorted array.
 */
import { tempDir } from "@scaleout/testkit";
import * as fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, open } from "../src/index.js";

const COUNT = 12_000;
const key = (i: number) => Buffer.from(`key-${String(i * 2).padStart(7, "0")}`);
const value = (i: number) => Buffer.alloc(300, i % 256);

describe("multi-table levels", () => {
  let db: Database;
  const t = tempDir("lsm");
  beforeAll(async () => {
    db = await open(t.dir, { memtableSizeBytes: 1024 * 1024, syncPolicy: "never" });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < COUNT; i++) writes.push(db.put(key(i), value(i)));
    await Promise.all(writes);
    // Deletes of every 10th key, some still in the memtable after compaction.
    for (let i = 0; i < COUNT; i += 10) await db.delete(key(i));
    await db.compact();
    for (let i = 5; i < COUNT; i += 100) await db.delete(key(i));
  });
  afterAll(async () => {
    await db.close();
    t.cleanup();
  });

  const live = () => {
    const out: number[] = [];
    for (let i = 0; i < COUNT; i++) if (i % 10 !== 0 && (i - 5) % 100 !== 0) out.push(i);
    return out;
  };

  it("spreads the data over several tables of one level", () => {
    const levels = db.stats().levels.filter((l) => l.tables > 0);
    expect(levels.some((l) => l.level >= 1 && l.tables >= 2)).toBe(true);
  });

  it("scans forward and reverse with any bounds like a sorted array", async () => {
    const expected = live();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -5, max: COUNT * 2 + 5 }),
        fc.integer({ min: -5, max: COUNT * 2 + 5 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 400 }),
        async (a, b, reverse, limit) => {
          // Odd bounds fall between stored keys (stored keys use even numbers).
          const low = Math.min(a, b);
          const high = Math.max(a, b);
          const bound = (n: number) =>
            Buffer.from(`key-${String(Math.max(0, n)).padStart(7, "0")}`);
          const got: number[] = [];
          for await (const [k, v] of db.iterator({
            gte: bound(low),
            lt: bound(high),
            reverse,
            limit,
          })) {
            const i = Number(Buffer.from(k).toString().slice(4)) / 2;
            expect(Buffer.from(v).equals(value(i))).toBe(true);
            got.push(i);
          }
          let want = expected.filter((i) => i * 2 >= Math.max(0, low) && i * 2 < Math.max(0, high));
          if (reverse) want = want.reverse();
          expect(got).toEqual(want.slice(0, limit));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("full reverse scan crosses every table", async () => {
    const got: number[] = [];
    for await (const [k] of db.iterator({ reverse: true }))
      got.push(Number(Buffer.from(k).toString().slice(4)) / 2);
    expect(got).toEqual(live().reverse());
  });
});
