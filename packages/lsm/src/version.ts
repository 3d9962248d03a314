/**
 * A Version is one immutable set of live tables per level. L0 tables may
 * overlap each other and are kept newest first (by file number, which follows
 * flush order, so also by sequence). Tables of L1 and deeper are disjoint and
 * sorted by smallest key. Readers and iterators pin the Version they started
 * with (`refs`), so compaction never deletes a file someone is reading.
 */
import { NUM_LEVELS } from "./constants.js";
import { compareInternal, compareKeys } from "./internal-key.js";

export interface TableMeta {
  number: number;
  sizeBytes: number;
  /** Smallest internal key (user key, sequence) in the table. */
  smallestKey: Buffer;
  smallestSeq: number;
  /** Largest internal key in the table. */
  largestKey: Buffer;
  largestSeq: number;
  entries: number;
  /** Highest sequence number of any entry in the table. */
  maxSequence: number;
}

/**
 * TableMeta with hex keys: the form sent to the compaction thread and stored
 * in the manifest, so its field names are PART OF THE FILE FORMAT.
 */
export interface TableMetaJson {
  number: number;
  sizeBytes: number;
  smallestKey: string;
  smallestSeq: number;
  largestKey: string;
  largestSeq: number;
  entries: number;
  maxSequence: number;
}

export function tableMetaToJson(t: TableMeta): TableMetaJson {
  return {
    number: t.number,
    sizeBytes: t.sizeBytes,
    smallestKey: t.smallestKey.toString("hex"),
    smallestSeq: t.smallestSeq,
    largestKey: t.largestKey.toString("hex"),
    largestSeq: t.largestSeq,
    entries: t.entries,
    maxSequence: t.maxSequence,
  };
}

export function tableMetaFromJson(t: TableMetaJson): TableMeta {
  return {
    number: t.number,
    sizeBytes: t.sizeBytes,
    smallestKey: Buffer.from(t.smallestKey, "hex"),
    smallestSeq: t.smallestSeq,
    largestKey: Buffer.from(t.largestKey, "hex"),
    largestSeq: t.largestSeq,
    entries: t.entries,
    maxSequence: t.maxSequence,
  };
}

export class Version {
  refs = 0;

  constructor(readonly levels: readonly (readonly TableMeta[])[]) {}

  static empty(): Version {
    return new Version(Array.from({ length: NUM_LEVELS }, () => []));
  }

  levelBytes(level: number): number {
    let total = 0;
    for (const table of this.levels[level]!) total += table.sizeBytes;
    return total;
  }

  /** Returns a new Version with `removed` table numbers dropped and `added` tables inserted. */
  apply(
    removed: ReadonlySet<number>,
    added: readonly { level: number; table: TableMeta }[],
  ): Version {
    const levels = this.levels.map((tables) => tables.filter((t) => !removed.has(t.number)));
    for (const { level, table } of added) levels[level]!.push(table);
    levels[0]!.sort((a, b) => b.number - a.number);
    for (let level = 1; level < levels.length; level++) {
      levels[level]!.sort((a, b) =>
        compareInternal(a.smallestKey, a.smallestSeq, b.smallestKey, b.smallestSeq),
      );
      assertDisjoint(levels[level]!, level);
    }
    return new Version(levels);
  }

  /** Tables of `level` whose user-key range intersects [smallest, largest]. */
  overlapping(level: number, smallest: Buffer, largest: Buffer): TableMeta[] {
    const out: TableMeta[] = [];
    for (const table of this.levels[level]!) {
      if (Buffer.compare(table.largestKey, smallest) < 0) continue;
      if (Buffer.compare(table.smallestKey, largest) > 0) continue;
      out.push(table);
    }
    return out;
  }

  /** Index of the first table of a sorted level whose largest user key >= key. */
  findTable(level: number, key: Buffer): number {
    const tables = this.levels[level]!;
    let low = 0;
    let high = tables.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(tables[mid]!.largestKey, key) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** Levels >= 1 must hold disjoint user-key ranges; a violation is a bug that would lose data. */
function assertDisjoint(tables: readonly TableMeta[], level: number): void {
  for (let i = 1; i < tables.length; i++) {
    if (Buffer.compare(tables[i - 1]!.largestKey, tables[i]!.smallestKey) >= 0) {
      throw new Error(
        `invariant broken: tables ${tables[i - 1]!.number} and ${tables[i]!.number} overlap in level ${level}`,
      );
    }
  }
}
