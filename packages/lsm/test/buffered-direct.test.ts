import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_KEY_SIZE_BYTES, open, WriteBatch } from "../src/index.js";
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

describe("putPairsBuffered (puts as ranges of one buffer)", () => {
  /** Arguments laid out in one buffer as a parser would find them; ranges point into it. */
  const layout = (args: Buffer[]): { source: Buffer; ranges: Int32Array } => {
    const source = Buffer.concat(args.flatMap((arg) => [Buffer.from("$|"), arg]));
    const ranges = new Int32Array(2 * args.length);
    let p = 0;
    args.forEach((arg, i) => {
      p += 2;
      ranges[2 * i] = p;
      ranges[2 * i + 1] = p + arg.length;
      p += arg.length;
    });
    return { source, ranges };
  };

  it("writes the same log records and answers as a WriteBatch of prefixed puts, before and after a restart", async () => {
    fc.assert(
      await fc.asyncProperty(
        fc.array(
          fc.array(fc.tuple(fc.nat(20), fc.uint8Array({ maxLength: 200 })), {
            minLength: 1,
            maxLength: 12,
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (batches) => {
          const viaPairs = fresh();
          const viaBatch = fresh();
          const pairs = await open(viaPairs, { syncPolicy: "everysec" });
          const batched = await open(viaBatch, { syncPolicy: "everysec" });
          let n = 0;
          const prefixOf = (i: number) => Buffer.from([0xa0, i & 0xff, (i >> 8) & 0xff]);
          for (const puts of batches) {
            const args = [Buffer.from("MSET")];
            const batch = new WriteBatch();
            for (const [k, value] of puts) {
              const key = Buffer.from(`key:${k}`);
              args.push(key, Buffer.from(value));
              batch.putPrefixed(key, prefixOf(n++), value);
            }
            const { source, ranges } = layout(args);
            let m = n - puts.length;
            const written = pairs.putPairsBuffered(source, ranges, 1, args.length, 3, (out, at) => {
              prefixOf(m++).copy(out, at);
            });
            expect(written).toBe(true);
            // The source may be reused at once (a socket chunk is): nothing may still point into it.
            source.fill(0x55);
            expect(batched.writeBuffered(batch)).toBe(true);
          }
          const dump = async (db: typeof pairs) => {
            const entries: string[] = [];
            for await (const [k, v] of db.iterator()) {
              entries.push(`${Buffer.from(k).toString()}=${Buffer.from(v).toString("hex")}`);
            }
            return entries;
          };
          expect(await dump(pairs)).toEqual(await dump(batched));
          await pairs.close();
          await batched.close();
          // Byte-identical logs: the same records, sequence numbers and checksums.
          const logOf = (dir: string) =>
            readdirSync(dir)
              .filter((name) => name.endsWith(".log"))
              .map((name) => readFileSync(join(dir, name)));
          expect(logOf(viaPairs)).toEqual(logOf(viaBatch));
          const reopened = await open(viaPairs, { syncPolicy: "everysec" });
          const reference = await open(viaBatch, { syncPolicy: "everysec" });
          try {
            expect(await dump(reopened)).toEqual(await dump(reference));
          } finally {
            await reopened.close();
            await reference.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("refuses bad keys and sizes before writing anything, and falls back under always", async () => {
    const dir = fresh();
    const db = await open(dir, { syncPolicy: "everysec" });
    try {
      const noPrefix = () => {};
      const tooLong = layout([
        Buffer.from("MSET"),
        Buffer.alloc(MAX_KEY_SIZE_BYTES + 1),
        Buffer.from("v"),
      ]);
      expect(() => db.putPairsBuffered(tooLong.source, tooLong.ranges, 1, 3, 0, noPrefix)).toThrow(
        /MAX_KEY_SIZE_BYTES/,
      );
      // The empty key is a key.
      const empty = layout([Buffer.from("MSET"), Buffer.alloc(0), Buffer.from("v")]);
      expect(db.putPairsBuffered(empty.source, empty.ranges, 1, 3, 0, noPrefix)).toBe(true);
      expect(text(db.lookupMemtables(Buffer.alloc(0)))).toBe("v");
      const ok = layout([Buffer.from("MSET"), Buffer.from("a"), Buffer.from("1")]);
      const huge = layout([Buffer.from("MSET"), Buffer.from("a"), Buffer.from("1")]);
      expect(() =>
        db.putPairsBuffered(huge.source, huge.ranges, 1, 3, 2 ** 31 - 1, noPrefix),
      ).toThrow(/MAX_VALUE_SIZE_BYTES/);
      expect(db.lookupMemtables(Buffer.from("a"))).toBeUndefined();
      expect(db.putPairsBuffered(ok.source, ok.ranges, 1, 3, 0, noPrefix)).toBe(true);
      expect(text(db.lookupMemtables(Buffer.from("a")))).toBe("1");
    } finally {
      await db.close();
    }
    const always = await open(fresh(), { syncPolicy: "always" });
    try {
      const ok = layout([Buffer.from("MSET"), Buffer.from("a"), Buffer.from("1")]);
      expect(always.putPairsBuffered(ok.source, ok.ranges, 1, 3, 0, () => {})).toBe(false);
      expect(await always.get(Buffer.from("a"))).toBeUndefined();
    } finally {
      await always.close();
    }
  });
});
