/**
 * One compaction, as a self-contained job: open the input tables, merge them,
 * write the output tables, return their metadata. It shares nothing with the
 * engine's state (its own table readers, no block cache), so it can run in the
 * compaction thread (compaction-thread.ts) while the event loop serves reads
 * and writes. The engine installs the result through the manifest.
 */
import { type CompactionPick, isBaseLevelForKey, writeSortedRun } from "./compaction.js";
import { NUM_LEVELS } from "./constants.js";
import { filePath, tableFileName } from "./filenames.js";
import type { InternalIterator } from "./internal-iterator.js";
import { LevelIterator } from "./level-iterator.js";
import { MergingIterator } from "./merging-iterator.js";
import { RateLimiter } from "./rate-limiter.js";
import { Counters } from "./stats.js";
import { TableBuilder } from "./table-builder.js";
import { TableCache } from "./table-cache.js";
import {
  type TableMeta,
  type TableMetaJson,
  tableMetaFromJson,
  tableMetaToJson,
  Version,
} from "./version.js";

export interface CompactionJob {
  dir: string;
  pick: CompactionPick;
  /** Tables of the levels below the output level (for the tombstone rule). */
  deeperLevels: TableMeta[][];
  smallestSnapshot: number;
  /** File numbers reserved for the outputs, used in order. */
  fileNumbers: number[];
  blockSizeBytes: number;
  bloomBitsPerKey: number;
  rateBytesPerSecond: number;
}

export interface CompactionJobJson {
  dir: string;
  level: number;
  inputs: TableMetaJson[];
  nextInputs: TableMetaJson[];
  deeperLevels: TableMetaJson[][];
  smallestSnapshot: number;
  fileNumbers: number[];
  blockSizeBytes: number;
  bloomBitsPerKey: number;
  rateBytesPerSecond: number;
}

export function jobToJson(job: CompactionJob): CompactionJobJson {
  return {
    dir: job.dir,
    level: job.pick.level,
    inputs: job.pick.inputs.map(tableMetaToJson),
    nextInputs: job.pick.nextInputs.map(tableMetaToJson),
    deeperLevels: job.deeperLevels.map((tables) => tables.map(tableMetaToJson)),
    smallestSnapshot: job.smallestSnapshot,
    fileNumbers: job.fileNumbers,
    blockSizeBytes: job.blockSizeBytes,
    bloomBitsPerKey: job.bloomBitsPerKey,
    rateBytesPerSecond: job.rateBytesPerSecond,
  };
}

export function jobFromJson(json: CompactionJobJson): CompactionJob {
  return {
    dir: json.dir,
    pick: {
      level: json.level,
      inputs: json.inputs.map(tableMetaFromJson),
      nextInputs: json.nextInputs.map(tableMetaFromJson),
    },
    deeperLevels: json.deeperLevels.map((tables) => tables.map(tableMetaFromJson)),
    smallestSnapshot: json.smallestSnapshot,
    fileNumbers: json.fileNumbers,
    blockSizeBytes: json.blockSizeBytes,
    bloomBitsPerKey: json.bloomBitsPerKey,
    rateBytesPerSecond: json.rateBytesPerSecond,
  };
}

/** Output tables never exceed the input bytes, and all but the last reach the target size. */
export function outputFileBudget(pick: CompactionPick, targetTableSizeBytes: number): number {
  let total = 0;
  for (const t of pick.inputs) total += t.sizeBytes;
  for (const t of pick.nextInputs) total += t.sizeBytes;
  return Math.ceil(total / targetTableSizeBytes) + 4;
}

export async function runCompactionJob(
  job: CompactionJob,
  shouldStop: () => boolean,
): Promise<TableMeta[]> {
  const { pick } = job;
  const outputLevel = pick.level + 1;
  // The base-level check only looks at levels deeper than the output level.
  const levels: TableMeta[][] = Array.from({ length: NUM_LEVELS }, () => []);
  job.deeperLevels.forEach((tables, i) => {
    levels[outputLevel + 1 + i] = tables;
  });
  const below = new Version(levels);
  const tables = new TableCache(job.dir, 0, new Counters(), "sync");
  const limiter = new RateLimiter(job.rateBytesPerSecond);
  let nextNumber = 0;
  const children: InternalIterator[] = [];
  try {
    if (pick.level === 0) {
      for (const table of pick.inputs)
        children.push((await tables.get(table)).iterator("sequential"));
    } else {
      children.push(new LevelIterator(pick.inputs, tables, "sequential"));
    }
    if (pick.nextInputs.length > 0)
      children.push(new LevelIterator(pick.nextInputs, tables, "sequential"));
    const merged = new MergingIterator(children, false);
    try {
      await merged.seekToFirst();
      return await writeSortedRun(merged, {
        newTable: () => {
          const number = job.fileNumbers[nextNumber++];
          if (number === undefined) throw new Error("compaction ran out of reserved file numbers");
          return TableBuilder.create(filePath(job.dir, tableFileName(number)), number, {
            blockSizeBytes: job.blockSizeBytes,
            bloomBitsPerKey: job.bloomBitsPerKey,
            rateLimiter: limiter,
          });
        },
        smallestSnapshot: job.smallestSnapshot,
        canDropTombstone: (key) => isBaseLevelForKey(below, outputLevel, key),
        splitOutput: true,
        shouldStop,
      });
    } finally {
      merged.close();
    }
  } finally {
    await tables.closeAll();
  }
}
