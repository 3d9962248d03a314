/**
 * Overwriting the same keys again and again must not grow the directory
 * without bound: flushes turn memtables into L0 tables, compaction merges them
 * and drops shadowed versions, obsolete tables and logs are deleted.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { L0_STOP_WRITES_TRIGGER, open } from "../src/index.js";
import { tempDir } from "./helpers/temp-dir.js";

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

describe("disk usage under overwrites", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it("stays bounded across many flushes and compactions", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const memtableSizeBytes = 32 * 1024;
    const db = await open(t.dir, { memtableSizeBytes, syncPolicy: "never" });
    const keys = 500;
    const valueBytes = 100;
    const liveBytes = keys * (16 + valueBytes);
    let maxBytes = 0;
    try {
      for (let round = 0; round < 30; round++) {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < keys; i++) {
          const key = Buffer.from(`key-${String(i).padStart(12, "0")}`);
          writes.push(db.put(key, Buffer.alloc(valueBytes, round)));
        }
        await Promise.all(writes);
        maxBytes = Math.max(maxBytes, dirBytes(t.dir));
      }
      const stats = db.stats();
      expect(stats.flush.count).toBeGreaterThanOrEqual(20);
      expect(stats.compaction.count).toBeGreaterThan(0);
      // 30 rounds wrote 30x the live data (1.7 MB). The directory holds at most the
      // compacted data, twice over while a compaction's inputs and outputs coexist,
      // plus what L0 and the logs may hold before writes stop (L0_STOP_WRITES_TRIGGER
      // memtables' worth, and the two live logs).
      expect(maxBytes).toBeLessThan(
        liveBytes * 2 + (L0_STOP_WRITES_TRIGGER + 2) * memtableSizeBytes,
      );
      await db.compact();
      // Fully compacted: one version per key plus table overhead.
      expect(dirBytes(t.dir)).toBeLessThan(liveBytes * 3);
      for (let i = 0; i < keys; i += 50) {
        const value = await db.get(Buffer.from(`key-${String(i).padStart(12, "0")}`));
        expect(value?.[0]).toBe(29);
      }
    } finally {
      await db.close();
    }
  });
});
