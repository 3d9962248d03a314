import { tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Database, open } from "../src/index.js";
import { bytes, collect } from "./helpers/common.js";

describe("snapshots", () => {
  let db: Database | null = null;
  let cleanup = () => {};
  afterEach(async () => {
    await db?.close();
    db = null;
    cleanup();
  });

  it("keep seeing old versions across flush and compaction", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    db = await open(t.dir, { memtableSizeBytes: 4096 });
    await db.put(bytes("k"), bytes("v1"));
    await db.put(bytes("gone"), bytes("x"));
    const snapshot = db.snapshot();
    await db.put(bytes("k"), bytes("v2"));
    await db.delete(bytes("gone"));
    for (const step of ["memtable", "flush", "compact"]) {
      if (step === "flush") await db.flush();
      if (step === "compact") await db.compact();
      expect(String(await db.get(bytes("k"), { snapshot })), step).toBe("v1");
      expect(String(await db.get(bytes("gone"), { snapshot })), step).toBe("x");
      expect(String(await db.get(bytes("k"))), step).toBe("v2");
      expect(await db.get(bytes("gone")), step).toBeUndefined();
      expect(await collect(db.iterator({ snapshot })), step).toEqual([
        [bytes("gone").toString("hex"), bytes("x").toString("hex")],
        [bytes("k").toString("hex"), bytes("v1").toString("hex")],
      ]);
    }
    snapshot.release();
    await db.compact();
    await expect(db.get(bytes("k"), { snapshot })).rejects.toMatchObject({
      code: "SCALEOUT_LSM_ERR_SNAPSHOT_RELEASED",
    });
    expect(String(await db.get(bytes("k")))).toBe("v2");
    // With the snapshot gone, compaction keeps only the newest version: one entry left in the tables.
    const stats = db.stats();
    expect(stats.levels.reduce((n, l) => n + l.tables, 0)).toBe(1);
  });

  it("overwrite in place only while no snapshot or iterator is open", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    // Big memtable: everything below stays in the memtable, where in-place overwrites happen.
    db = await open(t.dir, { syncPolicy: "never" });
    const k = bytes("k");
    const buffered = (value: string) => expect(db!.putBuffered(k, bytes(value))).toBe(true);
    buffered("v1");
    buffered("v2"); // no reader: replaces v1 in place
    expect(String(await db.get(k))).toBe("v2");

    // An iterator created before a write sees the value as of its creation, even
    // though it reads the memtable only when it starts.
    const iterator = db.iterator();
    buffered("v3");
    buffered("v4");
    expect(await collect(iterator)).toEqual([[k.toString("hex"), bytes("v2").toString("hex")]]);

    // A snapshot keeps its version while writes continue; released, in-place resumes.
    const snapshot = db.snapshot();
    buffered("v5");
    buffered("v6");
    expect(String(await db.get(k, { snapshot }))).toBe("v4");
    expect(String(await db.get(k))).toBe("v6");
    snapshot.release();
    buffered("v7");
    expect(String(await db.get(k))).toBe("v7");

    // An iterator that is stopped early (return) also ends its hold.
    for await (const _ of db.iterator()) break;
    buffered("v8");
    const held = db.iterator();
    buffered("v9");
    expect(await collect(held)).toEqual([[k.toString("hex"), bytes("v8").toString("hex")]]);
    expect(String(await db.get(k))).toBe("v9");
    await db.close();
    db = await open(t.dir);
    expect(String(await db.get(k))).toBe("v9");
  });
});
