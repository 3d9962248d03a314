/**
 * A cache of decoded entries read from the lsm engine's tables (what RocksDB
 * calls a row cache): hot keys that are in no memtable are read without
 * touching the block cache or the tables. LsmStore asks the memtables first
 * and empties this cache whenever a flush finishes, so it never disagrees
 * with the engine (lsm.ts). Bounded by bytes (key + value +
 * ROW_CACHE_ENTRY_OVERHEAD_BYTES each), least recently used out first — a JS
 * Map kept in recency order.
 */
import type { StoredEntry } from "./store.js";

/** Bytes counted per cached entry on top of key and value (Map slot, entry object). */
export const ROW_CACHE_ENTRY_OVERHEAD_BYTES = 96;

export class RowCache {
  private readonly entries = new Map<string, StoredEntry>();
  private sizeBytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly capacityBytes: number) {}

  get(key: string): StoredEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: StoredEntry): void {
    if (this.capacityBytes === 0) return;
    this.delete(key);
    const size = key.length + entry.value.length + ROW_CACHE_ENTRY_OVERHEAD_BYTES;
    if (size > this.capacityBytes / 8) return; // one big value must not flush the whole cache
    this.entries.set(key, entry);
    this.sizeBytes += size;
    while (this.sizeBytes > this.capacityBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.sizeBytes -= key.length + entry.value.length + ROW_CACHE_ENTRY_OVERHEAD_BYTES;
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
