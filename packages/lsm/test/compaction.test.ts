/**
 * The compaction job's drop rules, on real table files: shadowed versions go
 * when every reader sees a newer one; a tombstone goes only when no deeper
 * level may hold an older value for its key (otherwise the value would
 * resurrect) and every snapshot sees it.
 */
import { tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { BlockCache } from "../src/block-cache.js";
import { runCompactionJob } from "../src/compaction-job.js";
import { TYPE_DELETION, TYPE_VALUE } from "../src/constants.js";
import { filePath, tableFileName } from "../src/filenames.js";
import { Counters } from "../src/stats.js";
import { TableBuilder } from "../src/table-builder.js";
import { TableReader } from "../src/table-reader.js";
import type { TableMeta } from "../src/version.js";

type Entry = [key: string, seq: number, type: number, value: string];

async function table(dir: string, number: number, entries: Entry[]): Promise<TableMeta> {
  const builder = await TableBuilder.create(filePath(dir, tableFileName(number)), number, {
    blockSizeBytes: 4096,
    bloomBitsPerKey: 10,
  });
  for (const [key, seq, type, value] of entries)
    await builder.add(Buffer.from(key), seq, type, Buffer.from(value));
  return builder.finish();
}

async function contents(dir: string, tables: TableMeta[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const meta of tables) {
    const reader = await TableReader.open(
      filePath(dir, tableFileName(meta.number)),
      meta.number,
      meta.sizeBytes,
      new BlockCache(1 << 20),
      new Counters(),
      "sync",
    );
    const it = reader.iterator("cached");
    for (await it.seekToFirst(); it.valid(); await it.next()) {
      out.push([it.key().toString(), it.seq(), it.type(), it.value().toString()]);
    }
    await reader.close();
  }
  return out;
}

describe("compaction drop rules", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  async function compactL1IntoL2(deeper: TableMeta[][], smallestSnapshot: number) {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    const l1 = await table(t.dir, 10, [
      ["a", 9, TYPE_VALUE, "a9"],
      ["a", 4, TYPE_VALUE, "a4"],
      ["b", 8, TYPE_DELETION, ""],
      ["c", 7, TYPE_VALUE, "c7"],
    ]);
    const l2 = await table(t.dir, 11, [
      ["a", 2, TYPE_VALUE, "a2"],
      ["c", 1, TYPE_DELETION, ""],
    ]);
    const deeperTables: TableMeta[][] = [];
    for (const [i, level] of deeper.entries()) {
      deeperTables.push([]);
      for (const [j, meta] of level.entries()) {
        // Re-create each deeper table in this directory (contents do not matter, only key ranges).
        deeperTables[i]!.push(
          await table(t.dir, 20 + i * 10 + j, [
            [meta.smallestKey.toString(), 1, TYPE_VALUE, "old"],
          ]),
        );
      }
    }
    const outputs = await runCompactionJob(
      {
        dir: t.dir,
        pick: { level: 1, inputs: [l1], nextInputs: [l2] },
        deeperLevels: deeperTables,
        smallestSnapshot,
        fileNumbers: [30, 31, 32, 33],
        blockSizeBytes: 4096,
        bloomBitsPerKey: 10,
        rateBytesPerSecond: 1 << 30,
      },
      () => false,
    );
    return contents(t.dir, outputs);
  }

  const fakeTable = (key: string): TableMeta => ({
    number: 0,
    sizeBytes: 0,
    smallestKey: Buffer.from(key),
    smallestSeq: 1,
    largestKey: Buffer.from(key),
    largestSeq: 1,
    entries: 1,
    maxSequence: 1,
  });

  it("drops shadowed versions and tombstones when nothing deeper holds the key", async () => {
    expect(await compactL1IntoL2([], 100)).toEqual([
      ["a", 9, TYPE_VALUE, "a9"],
      ["c", 7, TYPE_VALUE, "c7"],
    ]);
  });

  it("keeps a tombstone whose key a deeper level may hold", async () => {
    expect(await compactL1IntoL2([[fakeTable("b")]], 100)).toEqual([
      ["a", 9, TYPE_VALUE, "a9"],
      ["b", 8, TYPE_DELETION, ""],
      ["c", 7, TYPE_VALUE, "c7"],
    ]);
  });

  it("keeps what a snapshot still reads", async () => {
    // A snapshot at sequence 5 reads a4 (a9 is newer) and the value b had before
    // its deletion at 8 (none here), so a4 and the tombstone stay.
    expect(await compactL1IntoL2([], 5)).toEqual([
      ["a", 9, TYPE_VALUE, "a9"],
      ["a", 4, TYPE_VALUE, "a4"],
      ["b", 8, TYPE_DELETION, ""],
      ["c", 7, TYPE_VALUE, "c7"],
    ]);
  });
});
