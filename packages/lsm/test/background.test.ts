/**
 * Background work and close: closing while flushes and a compaction (on the
 * compaction thread) are running loses nothing, and the next open deletes the
 * abandoned partial outputs, leaving only files the manifest names.
 */
import { readdirSync } from "node:fs";
import { tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { open } from "../src/index.js";

describe("close during background work", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it("keeps every write and leaves no orphan files after reopen", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    const key = (i: number) => Buffer.from(`key-${String(i).padStart(8, "0")}`);
    const value = (i: number) => Buffer.alloc(200, i % 251);
    const options = { memtableSizeBytes: 16 * 1024, syncPolicy: "never" as const };
    for (let round = 0; round < 3; round++) {
      const db = await open(t.dir, options);
      const writes: Promise<void>[] = [];
      for (let i = round * 3000; i < (round + 1) * 3000; i++)
        writes.push(db.put(key((i * 7919) % 9000), value(i)));
      await Promise.all(writes);
      // Close at once: flushes and compactions triggered by the writes are in flight.
      await db.close();
    }
    const db = await open(t.dir, options);
    try {
      const expected = new Map<number, number>();
      for (let i = 0; i < 9000; i++) expected.set((i * 7919) % 9000, i);
      for (const [k, i] of expected) {
        const got = await db.get(key(k));
        expect(got === undefined ? undefined : Buffer.from(got).equals(value(i)), `key ${k}`).toBe(
          true,
        );
      }
      let count = 0;
      for await (const _ of db.iterator()) count++;
      expect(count).toBe(9000);
      // Once background work settles, every table on disk is named by the current version.
      await db.compact();
      const tablesOnDisk = readdirSync(t.dir).filter((n) => n.endsWith(".sst")).length;
      const tablesLive = db.stats().levels.reduce((n, l) => n + l.tables, 0);
      expect(tablesOnDisk).toBe(tablesLive);
    } finally {
      await db.close();
    }
  });
});
