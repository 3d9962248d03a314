/**
 * Overwriting the same keys again and again must not grow the directory
 * without bound: flushes turn memtables into L0 tables, compaction merges them
 * and drops shadowed versions, obsolete tables and logs are deleted.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_IMMUTABLE_MEMTABLES } from "../src/constants.js";
import { L0_STOP_WRITES_TRIGGER, open } from "../src/index.js";

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

describe("disk usage under overwrites", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it("stays bounded across many flushes and compactions", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    const db = await open(t.dir, { memtableSizeBytes: 32 * 1024, syncPolicy: "never" });
    const keys = 500;
    const valueBytes = 100;
    const liveBytes = keys * (16 + valueBytes);
    const rounds = 60;
    const maxBytesByRound: number[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < keys; i++) {
          const key = Buffer.from(`key-${String(i).padStart(12, "0")}`);
          writes.push(db.put(key, Buffer.alloc(valueBytes, round)));
        }
        await Promise.all(writes);
        maxBytesByRound.push(dirBytes(t.dir));
      }
      const stats = db.stats();
      expect(stats.flush.count).toBeGreaterThanOrEqual(20);
      expect(stats.compaction.count).toBeGreaterThan(0);
      // 60 rounds wrote 60x the live data (4 MB with log framing). Here every
      // memtable holds the whole key set (each round is one write group), so each
      // L0 table, log and immutable memtable is about one live-data's worth. At any
      // moment the directory holds at most: L0 up to L0_STOP_WRITES_TRIGGER tables
      // plus the immutable memtables already queued (flushes are never stopped), the logs of the live and immutable memtables, and L1 with a
      // compaction's output beside it. None of that grows with the bytes written.
      const maxBytes = Math.max(...maxBytesByRound);
      const bound =
        liveBytes * (L0_STOP_WRITES_TRIGGER + 1 + (MAX_IMMUTABLE_MEMTABLES + 1) * 1.3 + 3);
      expect(maxBytes).toBeLessThan(bound);
      expect(bound).toBeLessThan(liveBytes * rounds * 0.4);
      await db.compact();
      // Fully compacted: one version per key plus table overhead.
      expect(dirBytes(t.dir)).toBeLessThan(liveBytes * 3);
      for (let i = 0; i < keys; i += 50) {
        const value = await db.get(Buffer.from(`key-${String(i).padStart(12, "0")}`));
        expect(value?.[0]).toBe(rounds - 1);
      }
    } finally {
      await db.close();
    }
  });
});
