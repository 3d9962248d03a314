import { describe, expect, it } from "vitest";
import { open } from "../src/index.js";
import { bytes, tempDirPerTest } from "./helpers/common.js";

const fresh = tempDirPerTest();

const text = (
  value: Uint8Array | null | undefined | Promise<unknown>,
): string | null | undefined =>
  value instanceof Uint8Array ? Buffer.from(value).toString() : (value as null | undefined);

describe("buffered writes inserted straight into the memtable, lookupMemtables", () => {
  it("stores prefix + value, answers from the memtables, and replays the same after a restart", async () => {
    const dir = fresh();
    const db = await open(dir, { syncPolicy: "everysec" });
    expect(db.putBuffered(bytes("a"), bytes("-value"), bytes("hdr"))).toBe(true);
    expect(db.putBuffered(bytes("b"), bytes("plain"))).toBe(true);
    expect(db.putBuffered(bytes("c"), bytes(""), bytes("only-prefix"))).toBe(true);
    // Read-modify-write of the same key (the memtable's last-record shortcut).
    expect(text(db.lookupMemtables(bytes("a")))).toBe("hdr-value");
    expect(db.putBuffered(bytes("a"), bytes("2"), bytes("v"))).toBe(true);
    expect(db.putBuffered(bytes("ab"), bytes("other"))).toBe(true);
    expect(db.deleteBuffered(bytes("b"))).toBe(true);
    // A long key and value (multi-byte varints).
    const longKey = Buffer.alloc(300, 0x6b);
    const longValue = Buffer.alloc(70_000, 0x76);
    expect(db.putBuffered(longKey, longValue, bytes("p"))).toBe(true);

    expect(text(db.lookupMemtables(bytes("a")))).toBe("v2");
    expect(text(db.lookupMemtables(bytes("ab")))).toBe("other");
    expect(db.lookupMemtables(bytes("b"))).toBeNull();
    expect(text(db.lookupMemtables(bytes("c")))).toBe("only-prefix");
    expect(db.lookupMemtables(bytes("zz"))).toBeUndefined();
    const long = db.lookupMemtables(longKey) as Uint8Array;
    expect(long.length).toBe(70_001);
    expect(long[0]).toBe(0x70);
    expect(Buffer.from(long.subarray(1)).equals(longValue)).toBe(true);
    expect(text(await db.get(bytes("a")))).toBe("v2");
    expect(await db.get(bytes("b"))).toBeUndefined();
    const before: [string, string][] = [];
    for await (const [k, v] of db.iterator())
      before.push([Buffer.from(k).toString(), Buffer.from(v).toString()]);
    await db.close();

    const reopened = await open(dir, { syncPolicy: "everysec" });
    try {
      const after: [string, string][] = [];
      for await (const [k, v] of reopened.iterator())
        after.push([Buffer.from(k).toString(), Buffer.from(v).toString()]);
      expect(after).toEqual(before);
      expect(text(await reopened.get(bytes("a")))).toBe("v2");
      expect(text(await reopened.get(bytes("c")))).toBe("only-prefix");
      expect(await reopened.get(bytes("b"))).toBeUndefined();
      // After a flush the key lives in a table only: lookupMemtables no longer knows it.
      await reopened.flush();
      expect(reopened.lookupMemtables(bytes("a"))).toBeUndefined();
      expect(text(await reopened.get(bytes("a")))).toBe("v2");
    } finally {
      await reopened.close();
    }
  });

  it("refuses the buffered path under always and checks the combined value size", async () => {
    const db = await open(fresh(), { syncPolicy: "always" });
    try {
      expect(db.putBuffered(bytes("a"), bytes("x"), bytes("h"))).toBe(false);
      expect(db.lookupMemtables(bytes("a"))).toBeUndefined();
    } finally {
      await db.close();
    }
    const other = await open(fresh(), { syncPolicy: "never" });
    try {
      const half = Buffer.alloc(8 * 1024 * 1024 + 1);
      expect(() => other.putBuffered(bytes("a"), half, half)).toThrow(/larger than/);
    } finally {
      await other.close();
    }
  });
});
