/**
 * Leveled compaction, as in LevelDB.
 *
 * Why leveled rather than size-tiered: the engine serves a key-value node whose
 * traffic is mostly point reads, and leveled compaction bounds what a read
 * touches (every L0 table, then at most one table per deeper level, most of
 * them skipped by the bloom filter) and keeps space amplification near 1.1
 * (90 % of the data sits in the last level, where shadowed versions and
 * tombstones are gone). Size-tiered writes each byte fewer times but lets a
 * key live in many runs of similar size, so reads probe more tables and
 * overwrites can temporarily double the disk footprint. We pay the higher
 * write amplification (measured by the `lsm` bench) for bounded reads and
 * bounded disk usage.
 *
 * Shape: L0 holds flushed memtables (they may overlap each other); a
 * compaction merges every L0 table with the overlapping L1 tables once L0 has
 * L0_COMPACTION_TRIGGER tables. Level n >= 1 holds disjoint tables and may hold
 * LEVEL1_MAX_BYTES * LEVEL_SIZE_MULTIPLIER^(n-1) bytes; past that, one of its
 * tables (chosen round-robin through the key space) is merged with the
 * overlapping tables of level n+1. A table that overlaps nothing below simply
 * moves down (no rewrite).
 *
 * What a merge drops: for each user key, versions older than one that every
 * snapshot can already see (an older version is then invisible to every
 * reader); and a tombstone that every snapshot sees when no deeper level holds
 * the key (nothing older is left for it to hide, so it cannot resurrect a value).
 */
import {
  L0_COMPACTION_TRIGGER,
  LEVEL_SIZE_MULTIPLIER,
  LEVEL1_MAX_BYTES,
  MERGE_CLOCK_CHECK_ENTRIES,
  MERGE_MIN_SLICE_MS,
  MERGE_SLICE_SHARE,
  NUM_LEVELS,
  TARGET_TABLE_SIZE_BYTES,
  TYPE_DELETION,
} from "./constants.js";
import type { InternalIterator } from "./internal-iterator.js";
import type { TableBuilder } from "./table-builder.js";
import type { FlushEntryListener } from "./types.js";
import type { TableMeta, Version } from "./version.js";

export function levelMaxBytes(level: number): number {
  return LEVEL1_MAX_BYTES * LEVEL_SIZE_MULTIPLIER ** (level - 1);
}

export interface CompactionPick {
  /** Level the inputs come from; outputs go to level + 1. */
  level: number;
  inputs: TableMeta[];
  /** Overlapping tables of level + 1. */
  nextInputs: TableMeta[];
}

/** The level most over its budget (score >= 1), or null when none is. */
export function compactionScore(version: Version): { level: number; score: number } | null {
  let best: { level: number; score: number } | null = null;
  for (let level = 0; level < NUM_LEVELS - 1; level++) {
    const score =
      level === 0
        ? version.levels[0]!.length / L0_COMPACTION_TRIGGER
        : version.levelBytes(level) / levelMaxBytes(level);
    if (score >= 1 && (best === null || score > best.score)) best = { level, score };
  }
  return best;
}

/**
 * Chooses the next compaction. `pointers[level]` is the largest key of the
 * previous compaction at that level, so successive compactions sweep the key
 * space instead of rewriting the same table.
 */
export function pickCompaction(
  version: Version,
  pointers: (Buffer | null)[],
): CompactionPick | null {
  const scored = compactionScore(version);
  if (scored === null) return null;
  return pickAtLevel(version, scored.level, pointers);
}

export function pickAtLevel(
  version: Version,
  level: number,
  pointers: (Buffer | null)[],
): CompactionPick | null {
  const tables = version.levels[level]!;
  if (tables.length === 0) return null;
  let inputs: TableMeta[];
  if (level === 0) {
    // L0 tables overlap: take them all, so no older L0 table is left above newer data in L1.
    inputs = [...tables];
  } else {
    const pointer = pointers[level] ?? null;
    const next =
      pointer === null ? undefined : tables.find((t) => Buffer.compare(t.smallestKey, pointer) > 0);
    inputs = [next ?? tables[0]!];
  }
  const [smallest, largest] = keyRange(inputs);
  const nextInputs = version.overlapping(level + 1, smallest, largest);
  return { level, inputs, nextInputs };
}

/** Smallest and largest user keys of a set of tables. */
export function keyRange(tables: readonly TableMeta[]): [Buffer, Buffer] {
  let smallest = tables[0]!.smallestKey;
  let largest = tables[0]!.largestKey;
  for (const t of tables) {
    if (Buffer.compare(t.smallestKey, smallest) < 0) smallest = t.smallestKey;
    if (Buffer.compare(t.largestKey, largest) > 0) largest = t.largestKey;
  }
  return [smallest, largest];
}

/** True when no level deeper than `outputLevel` has a table whose range holds `key`. */
export function isBaseLevelForKey(version: Version, outputLevel: number, key: Buffer): boolean {
  for (let level = outputLevel + 1; level < NUM_LEVELS; level++) {
    const tables = version.levels[level]!;
    const i = version.findTable(level, key);
    if (i < tables.length && Buffer.compare(tables[i]!.smallestKey, key) <= 0) return false;
  }
  return true;
}

export interface SortedRunOptions {
  /** Creates the next output table (allocating its file number). */
  newTable(): Promise<TableBuilder>;
  /** Versions at or below this sequence are visible to every reader. */
  smallestSnapshot: number;
  /** May a tombstone for `key` that every reader sees be dropped? */
  canDropTombstone(key: Buffer): boolean;
  /** Cut output tables at TARGET_TABLE_SIZE_BYTES (compaction) or write one table (flush). */
  splitOutput: boolean;
  /** Checked between entries; true stops the merge (the database is closing). */
  shouldStop(): boolean;
  /** Told the newest version of each user key, as it is reached (flushes: OpenOptions.onFlushEntry). */
  onNewestEntry?: FlushEntryListener | undefined;
}

export class MergeStopped extends Error {
  constructor() {
    super("merge stopped: the database is closing");
  }
}

/**
 * Writes the entries of `source` (already positioned at its first entry) into
 * tables, dropping what nothing can read any more. Output tables are cut only
 * between user keys, so every version of a key stays in one table, which
 * keeps deeper levels disjoint by user key.
 */
export async function writeSortedRun(
  source: InternalIterator,
  options: SortedRunOptions,
): Promise<TableMeta[]> {
  const outputs: TableMeta[] = [];
  let builder: TableBuilder | null = null;
  let currentKey: Buffer | null = null;
  // Sequence of the previous entry for the same user key; Infinity at a new key.
  let previousSeqForKey = Number.POSITIVE_INFINITY;
  let processed = 0;
  let sliceStart = performance.now();
  // How long the event loop ran other work during the last yield.
  let elsewhereMs = 0;
  try {
    while (source.valid()) {
      const key = source.key();
      const seq = source.seq();
      const type = source.type();
      if (currentKey === null || Buffer.compare(key, currentKey) !== 0) {
        currentKey = key;
        previousSeqForKey = Number.POSITIVE_INFINITY;
        // The first entry of a user key is its newest version (internal-key order).
        if (options.onNewestEntry !== undefined) {
          options.onNewestEntry(key, type === TYPE_DELETION ? undefined : source.value());
        }
        if (
          builder !== null &&
          options.splitOutput &&
          builder.estimatedSizeBytes >= TARGET_TABLE_SIZE_BYTES
        ) {
          outputs.push(await builder.finish());
          builder = null;
        }
      }
      let drop = false;
      if (previousSeqForKey <= options.smallestSnapshot) {
        // A newer version of this key is visible to every reader: this one is shadowed.
        drop = true;
      } else if (
        type === TYPE_DELETION &&
        seq <= options.smallestSnapshot &&
        options.canDropTombstone(key)
      ) {
        drop = true;
      }
      previousSeqForKey = seq;
      if (!drop) {
        if (builder === null) builder = await options.newTable();
        const pending = builder.add(key, seq, type, source.value());
        if (pending !== undefined) await pending;
      }
      if (++processed % MERGE_CLOCK_CHECK_ENTRIES === 0) {
        const now = performance.now();
        if (now - sliceStart >= Math.max(MERGE_MIN_SLICE_MS, elsewhereMs * MERGE_SLICE_SHARE)) {
          if (options.shouldStop()) throw new MergeStopped();
          // Let foreground reads and writes run between slices of merging.
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
          elsewhereMs = sliceStart - now;
        }
      }
      const moved = source.next();
      if (moved !== undefined) await moved;
    }
    if (builder !== null) {
      outputs.push(await builder.finish());
      builder = null;
    }
    return outputs;
  } catch (error) {
    await builder?.abandon();
    // Finished outputs are not in any version: the engine's obsolete-file sweep deletes them.
    throw error;
  }
}
