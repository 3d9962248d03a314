import { describe, expect, it } from "vitest";
import { LsmErrorCode, MAX_KEY_SIZE_BYTES, open, WriteBatch } from "../src/index.js";
import { bytes, tempDirPerTest } from "./helpers/common.js";

const fresh = tempDirPerTest();

async function keysOf(iterator: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<string[]> {
  const out: string[] = [];
  for await (const [key] of iterator) out.push(Buffer.from(key).toString());
  return out;
}

describe("Database API", () => {
  it("honours gt/gte/lt/lte, reverse and limit across memtable and tables", async () => {
    const db = await open(fresh(), { memtableSizeBytes: 4096 });
    try {
      for (const k of ["a", "b", "c", "d", "e"]) await db.put(bytes(k), bytes(k.toUpperCase()));
      await db.flush();
      await db.put(bytes("f"), bytes("F"));
      await db.delete(bytes("c"));
      expect(await keysOf(db.iterator({ gt: bytes("a"), lte: bytes("e") }))).toEqual([
        "b",
        "d",
        "e",
      ]);
      expect(await keysOf(db.iterator({ gte: bytes("b"), lt: bytes("f"), reverse: true }))).toEqual(
        ["e", "d", "b"],
      );
      expect(await keysOf(db.iterator({ gt: bytes("b"), reverse: true, limit: 2 }))).toEqual([
        "f",
        "e",
      ]);
      expect(await keysOf(db.iterator({ limit: 0 }))).toEqual([]);
      expect(await keysOf(db.iterator({ gte: bytes("zz") }))).toEqual([]);
      // An iterator is a snapshot: writes after it starts are not seen.
      const it = db.iterator();
      await db.put(bytes("g"), bytes("G"));
      expect(await keysOf(it)).toEqual(["a", "b", "d", "e", "f"]);
      // Breaking out early releases the iterator (no leak keeps files pinned).
      for await (const _ of db.iterator()) break;
    } finally {
      await db.close();
    }
  });

  it("rejects invalid keys, values, batches and options with stable codes", async () => {
    const db = await open(fresh());
    try {
      // The empty key is a key (LevelDB's and Redis's too).
      await db.put(new Uint8Array(0), bytes("v"));
      expect(Buffer.from((await db.get(new Uint8Array(0)))!).toString()).toBe("v");
      await expect(db.put(Buffer.alloc(MAX_KEY_SIZE_BYTES + 1), bytes("v"))).rejects.toMatchObject({
        code: LsmErrorCode.INVALID_ARGUMENT,
      });
      expect(() => new WriteBatch().put("k" as unknown as Uint8Array, bytes("v"))).toThrow(
        /Uint8Array/,
      );
      await db.write(new WriteBatch()); // an empty batch is a no-op
    } finally {
      await db.close();
    }
    await expect(open(fresh(), { memtableSizeBytes: 10 })).rejects.toMatchObject({
      code: LsmErrorCode.INVALID_OPTION,
      message: expect.stringContaining("memtableSizeBytes"),
    });
    await expect(open(fresh(), { syncPolicy: "sometimes" as "always" })).rejects.toMatchObject({
      code: LsmErrorCode.INVALID_OPTION,
    });
    await expect(open(`${fresh()}/missing`, { createIfMissing: false })).rejects.toMatchObject({
      code: LsmErrorCode.NOT_FOUND,
    });
    await expect(
      open(fresh(), { onFlushEntry: "cache" as unknown as () => void }),
    ).rejects.toMatchObject({
      code: LsmErrorCode.INVALID_OPTION,
      message: expect.stringContaining("onFlushEntry"),
    });
  });

  it("drops overwritten values of a full memtable in memory instead of flushing, until its log reaches four memtable sizes", async () => {
    const dir = fresh();
    const memtableSizeBytes = 64 * 1024;
    let db = await open(dir, { memtableSizeBytes, syncPolicy: "never" });
    const key = (i: number) => bytes(`counter:${i}`);
    const value = (round: number, i: number) => bytes(`${round}:${i}:${"x".repeat(40)}`);
    try {
      // 20 keys overwritten again and again: live data ~3 KiB, a full memtable every ~900 writes.
      let round = 0;
      while (db.stats().flush.count === 0 && round < 2000) {
        round++;
        for (let i = 0; i < 20; i++) {
          if (!db.putBuffered(key(i), value(round, i))) await db.put(key(i), value(round, i));
        }
      }
      const stats = db.stats();
      expect(stats.memtableCompactions).toBeGreaterThanOrEqual(2);
      // The first flush came only once the log passed its bound (~4 memtable sizes of records).
      expect(stats.logBytesWritten).toBeGreaterThanOrEqual(3 * memtableSizeBytes);
      expect(stats.memtableSizeBytes).toBeLessThan(memtableSizeBytes);
      for (let i = 0; i < 20; i++) {
        expect(Buffer.from(db.lookup(key(i)) as Uint8Array)).toEqual(value(round, i));
      }
      db.commitBuffered();
      await db.close();
      // The log replays to the same answers.
      db = await open(dir, { memtableSizeBytes, syncPolicy: "never" });
      for (let i = 0; i < 20; i++)
        expect(Buffer.from((await db.get(key(i)))!)).toEqual(value(round, i));
    } finally {
      await db.close();
    }
  });

  it("tells onFlushEntry the newest version of each flushed key, in key order, before the memtable goes", async () => {
    const seen: [string, string | undefined, string | undefined][] = [];
    let db: Awaited<ReturnType<typeof open>> | undefined;
    db = await open(fresh(), {
      onFlushEntry: (key, value) => {
        // The memtable being flushed still answers for the key while it is reported.
        const live = db!.lookupMemtables(key);
        seen.push([
          key.toString(),
          value?.toString(),
          live === undefined ? "gone" : live === null ? undefined : Buffer.from(live).toString(),
        ]);
      },
    });
    try {
      await db.put(bytes("b"), bytes("b1"));
      const snapshot = db.snapshot(); // keeps b1 in the flushed table as well
      await db.put(bytes("b"), bytes("b2"));
      await db.put(bytes("a"), bytes("a1"));
      await db.put(bytes("c"), bytes("c1"));
      await db.delete(bytes("c"));
      await db.flush();
      snapshot.release();
      expect(seen).toEqual([
        ["a", "a1", "a1"],
        ["b", "b2", "b2"],
        ["c", undefined, undefined],
      ]);
      expect(db.lookupMemtables(bytes("a"))).toBeUndefined();
      expect(Buffer.from((await db.get(bytes("b")))!).toString()).toBe("b2");
    } finally {
      await db.close();
    }
  });

  it("refuses use after close", async () => {
    const db = await open(fresh());
    await db.put(bytes("k"), bytes("v"));
    await db.close();
    await expect(db.put(bytes("k"), bytes("v"))).rejects.toMatchObject({
      code: LsmErrorCode.CLOSED,
    });
    await expect(db.get(bytes("k"))).rejects.toMatchObject({ code: LsmErrorCode.CLOSED });
    await db.close(); // idempotent
  });

  it("acknowledges concurrent writers in groups and keeps all of them", async () => {
    const dir = fresh();
    let db = await open(dir, { syncPolicy: "always" });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => db.put(bytes(`k${i}`), bytes(`v${i}`))),
    );
    const stats = db.stats();
    expect(stats.lastSequence).toBe(200);
    // 200 records in far fewer log writes would show in bytes only; the data is what matters:
    await db.close();
    db = await open(dir);
    for (let i = 0; i < 200; i++) expect(String(await db.get(bytes(`k${i}`)))).toBe(`v${i}`);
    await db.close();
  });

  it("reports per-level tables, bloom and cache counters, and write amplification", async () => {
    const db = await open(fresh(), { memtableSizeBytes: 8192 });
    try {
      for (let i = 0; i < 2000; i++)
        await db.put(bytes(`key${String(i).padStart(5, "0")}`), Buffer.alloc(50, 1));
      await db.compact();
      // Absent keys inside the tables' key ranges, so the bloom filter is what rules them out.
      for (let i = 0; i < 200; i++) await db.get(bytes(`key${String(i * 5).padStart(5, "0")}x`));
      for (let i = 0; i < 200; i++) await db.get(bytes(`key${String(i * 5).padStart(5, "0")}`));
      const stats = db.stats();
      const tables = stats.levels.reduce((n, l) => n + l.tables, 0);
      expect(tables).toBeGreaterThan(0);
      expect(stats.levels[0]!.tables).toBe(0);
      expect(stats.flush.count).toBeGreaterThan(5);
      expect(stats.compaction.bytesWritten).toBeGreaterThan(0);
      expect(stats.bloom.truePositive).toBe(200);
      // A few absent keys fall between two tables' ranges and need no filter at all.
      expect(stats.bloom.useful + stats.bloom.falsePositive).toBeGreaterThanOrEqual(180);
      expect(stats.bloom.falsePositive).toBeLessThan(20);
      expect(stats.blockCache.hits + stats.blockCache.misses).toBeGreaterThan(0);
      expect(stats.writeAmplification).toBeGreaterThan(1);
    } finally {
      await db.close();
    }
  });
});
