/**
 * A cache of decoded entries read from the lsm engine's tables (what RocksDB
 * calls a row cache): hot keys that are in no memtable are read without
 * touching the block cache or the tables. LsmStore asks the memtables first
 * and has every flush write the keys it flushes into this cache, so it never
 * disagrees with the tables (lsm.ts `cacheFlushed`). Bounded by bytes (key +
 * value + ROW_CACHE_ENTRY_OVERHEAD_BYTES each).
 *
 * Eviction is CLOCK (second chance), not exact LRU: a hit only sets the
 * entry's `referenced` bit; eviction takes the oldest entry (a JS Map keeps
 * insertion order) and, if it was referenced since, clears the bit and moves
 * it to the back instead. Exact LRU reordered the Map on every hit (a delete
 * and a set), 12 % of the node's CPU on a GET workload served from tables.
 */
import type { StoredEntry } from "./store.js";

/** Bytes counted per cached entry on top of key and value (Map slot, entry object). */
export const ROW_CACHE_ENTRY_OVERHEAD_BYTES = 96;

/** Referenced entries one insertion may move to the back before it evicts regardless. */
const MAX_SECOND_CHANCES_PER_INSERT = 32;

/** A cached entry; callers see it as a (read-only) StoredEntry. */
export class CachedRow implements StoredEntry {
  /** Read since it was cached or last given a second chance. */
  referenced = false;
  constructor(
    readonly value: Uint8Array,
    readonly expiresAtMs: number,
    readonly flags: number,
    readonly cas: number,
  ) {}

  /** A row holding `entry` with its value copied (the cache must not pin the engine's blocks or log chunks). */
  static copyOf(entry: StoredEntry): CachedRow {
    return new CachedRow(Buffer.from(entry.value), entry.expiresAtMs, entry.flags, entry.cas);
  }
}

export class RowCache {
  private readonly entries = new Map<string, CachedRow>();
  private sizeBytes = 0;

  constructor(private readonly capacityBytes: number) {}

  get(key: string): CachedRow | undefined {
    const row = this.entries.get(key);
    if (row !== undefined) row.referenced = true;
    return row;
  }

  set(key: string, row: CachedRow): void {
    if (this.capacityBytes === 0) return;
    const size = key.length + row.value.length + ROW_CACHE_ENTRY_OVERHEAD_BYTES;
    if (size > this.capacityBytes / 8) {
      this.delete(key); // one big value must not flush the whole cache
      return;
    }
    const replaced = this.entries.get(key);
    if (replaced !== undefined) {
      // A newer value of a cached key (a flush): same place in the clock, same reference bit.
      row.referenced = replaced.referenced;
      this.sizeBytes -= key.length + replaced.value.length + ROW_CACHE_ENTRY_OVERHEAD_BYTES;
    }
    this.entries.set(key, row);
    this.sizeBytes += size;
    let chances = 0;
    while (this.sizeBytes > this.capacityBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) break;
      const [name, candidate] = oldest.value;
      if (candidate.referenced && chances < MAX_SECOND_CHANCES_PER_INSERT) {
        chances++;
        candidate.referenced = false;
        this.entries.delete(name);
        this.entries.set(name, candidate);
        continue;
      }
      this.delete(name);
    }
  }

  delete(key: string): void {
    const row = this.entries.get(key);
    if (row === undefined) return;
    this.entries.delete(key);
    this.sizeBytes -= key.length + row.value.length + ROW_CACHE_ENTRY_OVERHEAD_BYTES;
  }

  clear(): void {
    this.entries.clear();
    this.sizeBytes = 0;
  }

  /** Number of cached entries (callers skip the key string when it is 0). */
  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.sizeBytes;
  }
}
