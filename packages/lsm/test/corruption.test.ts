/**
 * Corruption handling: a torn or bit-flipped commit log tail is dropped with a
 * warning (the records before it survive); a flipped bit in a table is
 * reported as SCALEOUT_LSM_ERR_CORRUPTION naming the file and offset, never
 * returned as data.
 */
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LsmErrorCode, open } from "../src/index.js";
import { bytes, collect, recordingLogger, tempDirPerTest } from "./helpers/common.js";

const fresh = tempDirPerTest();

function onlyFile(dir: string, suffix: string): string {
  const names = readdirSync(dir).filter(
    (n) => n.endsWith(suffix) && statSync(join(dir, n)).size > 0,
  );
  expect(names.length, `${suffix} files in ${dir}: ${names.join(",")}`).toBe(1);
  return join(dir, names[0]!);
}

/** Writes `count` records (one put each) and closes without flushing: they live only in the log. */
async function writeLogOnly(dir: string, count: number): Promise<void> {
  const db = await open(dir, { syncPolicy: "always" });
  for (let i = 0; i < count; i++) await db.put(bytes(`key${i}`), bytes(`value${i}`));
  await db.close();
}

async function presentKeys(
  dir: string,
  logger?: ReturnType<typeof recordingLogger>["logger"],
): Promise<number[]> {
  const db = await open(dir, logger === undefined ? {} : { logger });
  try {
    const found: number[] = [];
    for (let i = 0; i < 100; i++) {
      const value = await db.get(bytes(`key${i}`));
      if (value !== undefined) {
        expect(Buffer.from(value).toString()).toBe(`value${i}`);
        found.push(i);
      }
    }
    return found;
  } finally {
    await db.close();
  }
}

describe("commit log corruption", () => {
  it("drops a torn tail of any length with a warning and keeps every complete record", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 80 }), async (cut) => {
        const dir = fresh();
        await writeLogOnly(dir, 10);
        const log = onlyFile(dir, ".log");
        const size = statSync(log).size;
        // Every record here is the same size: cutting `cut` bytes tears exactly the last ceil(cut/record) records.
        const recordBytes = size / 10;
        truncateSync(log, size - cut);
        const { warnings, logger } = recordingLogger();
        const found = await presentKeys(dir, logger);
        const torn = Math.ceil(cut / recordBytes);
        expect(found).toEqual(Array.from({ length: 10 - torn }, (_, i) => i));
        // A cut on a record boundary leaves a clean (shorter) log: nothing to warn about.
        const tornMidRecord = cut % recordBytes !== 0;
        expect(warnings.some((w) => w.msg.includes("torn or corrupt commit log tail"))).toBe(
          tornMidRecord,
        );
      }),
      { numRuns: 8 },
    );
  });

  it("drops everything from a bit-flipped record on, with the file and offset in the warning", async () => {
    const dir = fresh();
    await writeLogOnly(dir, 10);
    const log = onlyFile(dir, ".log");
    const data = readFileSync(log);
    const recordBytes = data.length / 10;
    const flipAt = Math.floor(recordBytes * 6 + recordBytes / 2); // inside record 6
    data[flipAt]! ^= 0x10;
    writeFileSync(log, data);
    const { warnings, logger } = recordingLogger();
    expect(await presentKeys(dir, logger)).toEqual([0, 1, 2, 3, 4, 5]);
    const warning = warnings.find((w) => w.msg.includes("commit log tail"));
    expect(warning?.obj).toMatchObject({
      file: log,
      offset: recordBytes * 6,
      reason: "checksum mismatch",
    });
  });
});

describe("table corruption", () => {
  async function buildTable(dir: string): Promise<string> {
    const db = await open(dir, { blockSizeBytes: 512 });
    for (let i = 0; i < 100; i++)
      await db.put(bytes(`key${String(i).padStart(3, "0")}`), bytes(`value${i}`.repeat(5)));
    await db.flush();
    await db.close();
    return onlyFile(dir, ".sst");
  }

  it("reports a flipped bit in a data block with the file and offset", async () => {
    const dir = fresh();
    const table = await buildTable(dir);
    const data = readFileSync(table);
    data[10]! ^= 0x01; // inside the first data block (offset 0)
    writeFileSync(table, data);
    const db = await open(dir);
    try {
      const error = await db.get(bytes("key000")).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: LsmErrorCode.CORRUPTION });
      expect((error as Error).message).toContain(table);
      expect((error as Error).message).toContain("at offset 0");
      await expect(collect(db.iterator())).rejects.toMatchObject({ code: LsmErrorCode.CORRUPTION });
      // Keys in intact blocks still read fine.
      expect(String(await db.get(bytes("key099")))).toBe("value99".repeat(5));
    } finally {
      await db.close();
    }
  });

  it("never returns data from a table with any single flipped bit", async () => {
    const dir = fresh();
    const table = await buildTable(dir);
    const pristine = readFileSync(table);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: pristine.length * 8 - 1 }), async (bit) => {
        const data = Buffer.from(pristine);
        data[bit >> 3]! ^= 1 << (bit & 7);
        writeFileSync(table, data);
        const db = await open(dir);
        try {
          for (let i = 0; i < 100; i += 7) {
            const key = `key${String(i).padStart(3, "0")}`;
            try {
              const value = await db.get(bytes(key));
              // Either the right value (the flip hit another block) or a corruption error.
              expect(value === undefined ? undefined : Buffer.from(value).toString()).toBe(
                `value${i}`.repeat(5),
              );
            } catch (error) {
              expect(error).toMatchObject({ code: LsmErrorCode.CORRUPTION });
            }
          }
        } finally {
          await db.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
