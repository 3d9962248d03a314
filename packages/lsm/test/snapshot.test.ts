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
});
