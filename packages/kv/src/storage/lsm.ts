/**
 * The lsm engine: durable storage on packages/lsm. Entries are encoded with
 * their TTL, flags and CAS (entry-codec.ts). `appendfsync` maps onto the
 * engine's sync policy: always → "always" (a write is acknowledged after its
 * log record is fsynced; concurrent writers share one fsync), everysec →
 * "everysec", no → "never".
 *
 * Reads ask the memtables first (a recent key is one hash lookup), then a
 * row cache of decoded entries (row-cache.ts, DEFAULT_ROW_CACHE_SIZE_BYTES),
 * then the tables. The row cache is filled by table reads and by flushes
 * (every key a flush writes is cached with its flushed value), which also
 * keeps it coherent with the tables (see `cacheFlushed`).
 *
 * Costs worth knowing: DEL reads before deleting (to answer 0 or 1); DBSIZE,
 * KEYS, FLUSHALL and the keyspace line of INFO scan the whole tree (O(n));
 * RANDOMKEY seeks to a random prefix, so it is random but not uniform.
 * Expiry is lazy on read, plus an active cycle that walks the key space a
 * slice at a time (LSM_EXPIRE_SCAN_KEYS_PER_TICK keys per tick) and deletes
 * what has expired under the key's scheduler lock.
 */
import { type Database, MAX_VALUE_SIZE_BYTES, open, WriteBatch } from "@scaleout/lsm";
import { smallIntegerBytes } from "../integer-bytes.js";
import {
  DEFAULT_LSM_MEMTABLE_SIZE_BYTES,
  DEFAULT_ROW_CACHE_SIZE_BYTES,
  LSM_EXPIRE_SCAN_KEYS_PER_TICK,
  MAX_OPEN_SCAN_CURSORS,
} from "../limits.js";
import {
  decodeEntry,
  decodeExpiry,
  ENTRY_HEADER_BYTES,
  encodeEntry,
  encodeEntryHeader,
  entryHeader,
  writeEntryHeader,
} from "./entry-codec.js";
import { toKey } from "./memory.js";
import { CachedRow, RowCache } from "./row-cache.js";
import {
  type Clock,
  type KeyValueStore,
  PLAIN_WRITE,
  type PutItem,
  type ScanPage,
  type StoredEntry,
  StoreLimitError,
  type StoreStats,
  systemClock,
  type WriteOptions,
} from "./store.js";

export const APPENDFSYNC_POLICIES = ["always", "everysec", "no"] as const;
export type AppendFsync = (typeof APPENDFSYNC_POLICIES)[number];

/** Largest value the lsm engine takes (its record limit minus our header). */
export const LSM_MAX_VALUE_BYTES = MAX_VALUE_SIZE_BYTES - ENTRY_HEADER_BYTES;

const CLEAR_BATCH_KEYS = 1000;

export interface LsmStoreOptions {
  dataDir: string;
  appendfsync: AppendFsync;
  memtableSizeBytes?: number;
  blockCacheSizeBytes?: number;
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  clock?: Clock;
  /** Bytes of decoded entries kept in the row cache (default DEFAULT_ROW_CACHE_SIZE_BYTES; 0 = off). */
  rowCacheSizeBytes?: number | undefined;
  /** Runs `task` holding the key's command lock (the active expiry must not race a writer). */
  withKeyLock?: (key: Uint8Array, task: () => Promise<void>) => Promise<void>;
}

export class LsmStore implements KeyValueStore {
  readonly engine = "lsm" as const;
  private readonly cursors = new Map<string, Uint8Array>();
  private readonly rowCache: RowCache;
  private nextCursor = 1;
  /**
   * Bumped whenever a flush writes to the row cache: a table read that was
   * in flight meanwhile may have read what that flush replaced, and is not
   * cached (see `readTables`).
   */
  private rowCacheGeneration = 0;
  /** CAS values start at the wall clock in µs so they keep growing across restarts. */
  private nextCas = Date.now() * 1000;
  private expired = 0;
  private expireCursor: Uint8Array | undefined;
  /**
   * False once a full pass of the expiry scan found no key with a TTL and no
   * write set one since: the scan then stays off (it costs a merged iterator
   * per tick) until a write with a TTL turns it back on. True at open (the
   * data on disk is unknown).
   */
  private mayHaveTtls = true;
  /** Keys with a TTL seen by the current pass, and whether a TTL was written during it. */
  private passTtlKeys = 0;
  private ttlWrittenDuringPass = false;
  private readonly clock: Clock;

  private constructor(
    private readonly db: Database,
    private readonly options: LsmStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.rowCache = new RowCache(options.rowCacheSizeBytes ?? DEFAULT_ROW_CACHE_SIZE_BYTES);
  }

  static async open(options: LsmStoreOptions): Promise<LsmStore> {
    const openOptions: Parameters<typeof open>[1] = {
      syncPolicy: options.appendfsync === "no" ? "never" : options.appendfsync,
      memtableSizeBytes: options.memtableSizeBytes ?? DEFAULT_LSM_MEMTABLE_SIZE_BYTES,
    };
    if (options.blockCacheSizeBytes !== undefined)
      openOptions.blockCacheSizeBytes = options.blockCacheSizeBytes;
    if (options.logger !== undefined) openOptions.logger = options.logger;
    // Flushes during open (a replayed log) precede the store: its row cache starts empty anyway.
    let store: LsmStore | undefined;
    if (options.rowCacheSizeBytes !== 0) {
      openOptions.onFlushEntry = (key, value) => store?.cacheFlushed(key, value);
    }
    const db = await open(options.dataDir, openOptions);
    store = new LsmStore(db, options);
    // An empty database has no TTLs: the expiry scan can start switched off.
    let empty = true;
    for await (const _ of db.iterator({ limit: 1 })) empty = false;
    if (empty) store.mayHaveTtls = false;
    return store;
  }

  get database(): Database {
    return this.db;
  }

  /**
   * Synchronous (no promise) whenever the key is in a memtable, on a
   * row-cache hit, and when the engine finds it in a cached block;
   * asynchronous only when a table block must be read.
   *
   * The memtables are asked first: a key written since the last flush (the
   * hot set of a write-heavy node) is then one hash lookup and a header
   * decode, its value a view into the engine's memory (log chunks are never
   * rewritten), and it never enters the row cache. Writes never touch the
   * row cache either (no key string, no lookup per write): a write lands in
   * a memtable, which is asked first, and reaches the tables only by a flush,
   * which hands every key it writes to `cacheFlushed`.
   */
  get(key: Uint8Array): StoredEntry | undefined | Promise<StoredEntry | undefined> {
    const recent = this.db.lookupMemtables(key);
    if (recent !== undefined) {
      if (recent === null) return undefined;
      const entry = decodeEntry(recent);
      if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= this.clock()) return this.expire(key);
      return entry;
    }
    if (this.rowCache.size === 0) return this.readTables(key, undefined);
    const name = toKey(key);
    const cached = this.rowCache.get(name);
    if (cached === undefined) return this.readTables(key, name);
    if (cached.expiresAtMs !== 0 && cached.expiresAtMs <= this.clock()) return this.expire(key);
    return cached;
  }

  private readTables(
    key: Uint8Array,
    name: string | undefined,
  ): StoredEntry | undefined | Promise<StoredEntry | undefined> {
    const generation = this.rowCacheGeneration;
    const raw = this.db.lookup(key);
    if (raw instanceof Promise) {
      // A flush while the block is read may have made the result stale: it is
      // returned (the read began first) but cached only if no flush wrote to the cache meanwhile.
      return raw.then((found) =>
        this.admit(key, name, found, generation === this.rowCacheGeneration),
      );
    }
    return this.admit(key, name, raw, true);
  }

  /**
   * Called by the engine for the newest version of each key a flush writes,
   * while the flushed memtable still answers reads of it. The tables' answer
   * for a key changes only when a flush writes that key (compactions keep
   * answers; every write goes through a memtable), so updating the cached
   * entry here keeps the cache equal to the tables — and warms it with what
   * was just written, which a node that floods writes would otherwise read
   * back from the tables one key at a time (RocksDB's
   * prepopulate_block_cache, for rows).
   */
  private cacheFlushed(key: Buffer, raw: Buffer | undefined): void {
    this.rowCacheGeneration++;
    const name = toKey(key);
    const decoded = raw === undefined ? undefined : decodeEntry(raw);
    if (
      decoded === undefined ||
      (decoded.expiresAtMs !== 0 && decoded.expiresAtMs <= this.clock())
    ) {
      this.rowCache.delete(name);
      return;
    }
    this.rowCache.set(name, CachedRow.copyOf(decoded));
  }

  /** Decodes what the engine returned from its tables, caches it, or expires it. */
  private admit(
    key: Uint8Array,
    name: string | undefined,
    raw: Uint8Array | undefined,
    cache: boolean,
  ): StoredEntry | undefined | Promise<undefined> {
    if (raw === undefined) return undefined;
    const decoded = decodeEntry(raw);
    if (decoded.expiresAtMs !== 0 && decoded.expiresAtMs <= this.clock()) return this.expire(key);
    const entry = CachedRow.copyOf(decoded);
    if (cache) this.rowCache.set(name ?? toKey(key), entry);
    return entry;
  }

  /**
   * Drops `key` from the row cache ahead of its deletion: the tombstone will
   * shadow a cached copy, but not before an unbuffered delete applies.
   */
  private uncache(key: Uint8Array): void {
    if (this.rowCache.size > 0) this.rowCache.delete(toKey(key));
  }

  private expire(key: Uint8Array): undefined | Promise<undefined> {
    this.uncache(key);
    this.expired++;
    if (this.db.deleteBuffered(key)) return undefined;
    return this.db.delete(key).then(() => undefined);
  }

  /**
   * Synchronous under appendfsync everysec / no whenever the engine takes the
   * write on its buffered path (the usual case); the log record then reaches
   * the file at the next `commitWrites()`, which the servers call before they
   * write any reply. Under always (and when the engine must queue), a promise
   * that resolves once the write is durable per policy.
   */
  put(
    key: Uint8Array,
    value: Uint8Array,
    options: WriteOptions,
  ): StoredEntry | Promise<StoredEntry> {
    if (value.length > LSM_MAX_VALUE_BYTES) {
      throw new StoreLimitError(
        `value is too large for the lsm engine (max ${LSM_MAX_VALUE_BYTES} bytes)`,
      );
    }
    const entry: StoredEntry = {
      value,
      expiresAtMs: options.expiresAtMs,
      flags: options.flags,
      cas: options.cas ?? this.nextCas++,
    };
    if (entry.expiresAtMs !== 0) this.noteTtlWrite();
    // The header goes straight into the log record in front of the value: no concatenation.
    if (this.db.putBuffered(key, value, encodeEntryHeader(entry))) return entry;
    return this.db.put(key, encodeEntry(entry)).then(() => entry);
  }

  putMany(items: readonly PutItem[]): undefined | Promise<void> {
    for (const item of items) {
      if (item.value.length > LSM_MAX_VALUE_BYTES) {
        throw new StoreLimitError(
          `value is too large for the lsm engine (max ${LSM_MAX_VALUE_BYTES} bytes)`,
        );
      }
    }
    // Each value goes into the log record behind its header: no concatenated copy.
    const headers = Buffer.allocUnsafe(items.length * ENTRY_HEADER_BYTES);
    const batch = new WriteBatch();
    for (let i = 0; i < items.length; i++) {
      const { key, value, options } = items[i]!;
      if (options.expiresAtMs !== 0) this.noteTtlWrite();
      const start = i * ENTRY_HEADER_BYTES;
      writeEntryHeader(
        headers,
        start,
        options.flags,
        options.expiresAtMs,
        options.cas ?? this.nextCas++,
      );
      batch.putPrefixed(key, headers.subarray(start, start + ENTRY_HEADER_BYTES), value);
    }
    if (this.db.writeBuffered(batch)) return undefined;
    return this.db.write(batch);
  }

  putPairs(
    source: Buffer,
    ranges: Int32Array,
    first: number,
    end: number,
  ): undefined | Promise<void> {
    for (let i = first + 1; i < end; i += 2) {
      if (ranges[2 * i + 1]! - ranges[2 * i]! > LSM_MAX_VALUE_BYTES) {
        throw new StoreLimitError(
          `value is too large for the lsm engine (max ${LSM_MAX_VALUE_BYTES} bytes)`,
        );
      }
    }
    // Keys, headers and values go straight from the request into the log record.
    if (
      this.db.putPairsBuffered(
        source,
        ranges,
        first,
        end,
        ENTRY_HEADER_BYTES,
        this.writePlainHeader,
      )
    ) {
      return undefined;
    }
    const items: PutItem[] = [];
    for (let i = first; i < end; i += 2) {
      items.push({
        key: source.subarray(ranges[2 * i], ranges[2 * i + 1]),
        value: source.subarray(ranges[2 * i + 2], ranges[2 * i + 3]),
        options: PLAIN_WRITE,
      });
    }
    return this.putMany(items);
  }

  /** The entry header of a plain write (no expiry, flags 0) with the next CAS. */
  private readonly writePlainHeader = (out: Buffer, offset: number): void => {
    writeEntryHeader(out, offset, 0, 0, this.nextCas++);
  };

  incrementSmall(key: Uint8Array, delta: number): number | undefined {
    const raw = this.db.lookupMemtables(key);
    if (raw === undefined || raw === null) return undefined;
    const entry = decodeEntry(raw);
    const current = entry.expiresAtMs === 0 ? entry.integer : undefined;
    if (current === undefined) return undefined;
    const next = current + delta;
    const header = entryHeader(entry.flags, 0, this.nextCas);
    if (!this.db.putBuffered(key, smallIntegerBytes(next), header)) return undefined;
    this.nextCas++;
    return next;
  }

  delete(key: Uint8Array): boolean | Promise<boolean> {
    const existing = this.get(key);
    if (existing instanceof Promise) {
      return existing.then((found) => (found === undefined ? false : this.remove(key)));
    }
    return existing === undefined ? false : this.remove(key);
  }

  private remove(key: Uint8Array): boolean | Promise<boolean> {
    if (this.db.deleteBuffered(key)) return true;
    return this.db.delete(key).then(() => true);
  }

  /** Hands buffered writes to the OS (write(2)); the servers call it before writing replies. */
  commitWrites(): void {
    this.db.commitBuffered();
  }

  /**
   * Every stored key, expired or not: like Redis's DBSIZE (and the memory
   * engine), a key whose expiry has passed counts until lazy or active expiry
   * deletes it (`SET k v EXAT <past>` then DBSIZE counts k on Redis 7.0).
   */
  async count(): Promise<number> {
    let count = 0;
    for await (const _ of this.db.iterator()) count++;
    return count;
  }

  async scan(cursor: string, count: number): Promise<ScanPage> {
    let after: Uint8Array | undefined;
    if (cursor !== "0") {
      after = this.cursors.get(cursor);
      this.cursors.delete(cursor);
      if (after === undefined) return { cursor: "0", keys: [] };
    }
    const keys: Uint8Array[] = [];
    const now = this.clock();
    let last: Uint8Array | undefined;
    let seen = 0;
    const iterator = this.db.iterator(
      after === undefined ? { limit: count } : { gt: after, limit: count },
    );
    for await (const [key, raw] of iterator) {
      seen++;
      last = key;
      const expiresAtMs = decodeExpiry(raw);
      if (expiresAtMs === 0 || expiresAtMs > now) keys.push(Buffer.from(key));
    }
    if (seen < count || last === undefined) return { cursor: "0", keys };
    const id = String(this.nextCursor++);
    this.cursors.set(id, Buffer.from(last));
    if (this.cursors.size > MAX_OPEN_SCAN_CURSORS) {
      const oldest = this.cursors.keys().next();
      if (oldest.done !== true) this.cursors.delete(oldest.value);
    }
    return { cursor: id, keys };
  }

  async *keys(): AsyncIterable<Uint8Array> {
    const now = this.clock();
    for await (const [key, raw] of this.db.iterator()) {
      const expiresAtMs = decodeExpiry(raw);
      if (expiresAtMs === 0 || expiresAtMs > now) yield Buffer.from(key);
    }
  }

  async randomKey(): Promise<Uint8Array | undefined> {
    const now = this.clock();
    const prefix = Buffer.from([Math.floor(Math.random() * 256), Math.floor(Math.random() * 256)]);
    for (const options of [{ gte: prefix }, { lt: prefix, reverse: true }]) {
      for await (const [key, raw] of this.db.iterator({ ...options, limit: 64 })) {
        const expiresAtMs = decodeExpiry(raw);
        if (expiresAtMs === 0 || expiresAtMs > now) return Buffer.from(key);
      }
    }
    return undefined;
  }

  async clear(): Promise<void> {
    let batch = new WriteBatch();
    let pending = 0;
    for await (const [key] of this.db.iterator()) {
      batch.delete(key);
      pending++;
      if (pending >= CLEAR_BATCH_KEYS) {
        await this.db.write(batch);
        batch = new WriteBatch();
        pending = 0;
      }
    }
    if (pending > 0) await this.db.write(batch);
    this.cursors.clear();
    this.rowCache.clear();
  }

  /** maxmemory does not apply to the durable engine: data lives on disk. */
  admitWrite(): boolean {
    return true;
  }

  private noteTtlWrite(): void {
    this.mayHaveTtls = true;
    this.ttlWrittenDuringPass = true;
  }

  async activeExpireCycle(): Promise<number> {
    if (!this.mayHaveTtls) return 0;
    if (this.expireCursor === undefined) {
      this.passTtlKeys = 0;
      this.ttlWrittenDuringPass = false;
    }
    const now = this.clock();
    const candidates: Uint8Array[] = [];
    let last: Uint8Array | undefined;
    let seen = 0;
    const from = this.expireCursor;
    const iterator = this.db.iterator(
      from === undefined
        ? { limit: LSM_EXPIRE_SCAN_KEYS_PER_TICK }
        : { gt: from, limit: LSM_EXPIRE_SCAN_KEYS_PER_TICK },
    );
    for await (const [key, raw] of iterator) {
      seen++;
      last = key;
      const expiresAtMs = decodeExpiry(raw);
      if (expiresAtMs !== 0) this.passTtlKeys++;
      if (expiresAtMs !== 0 && expiresAtMs <= now) candidates.push(Buffer.from(key));
    }
    this.expireCursor =
      seen < LSM_EXPIRE_SCAN_KEYS_PER_TICK || last === undefined ? undefined : Buffer.from(last);
    if (this.expireCursor === undefined && this.passTtlKeys === 0 && !this.ttlWrittenDuringPass) {
      this.mayHaveTtls = false;
    }
    let removed = 0;
    for (const key of candidates) {
      const task = async (): Promise<void> => {
        // Re-check under the lock: a writer may have replaced the value since the scan.
        const raw = await this.db.get(key);
        if (raw === undefined) return;
        const expiresAtMs = decodeExpiry(raw);
        if (expiresAtMs !== 0 && expiresAtMs <= this.clock()) {
          this.uncache(key);
          if (!this.db.deleteBuffered(key)) await this.db.delete(key);
          this.expired++;
          removed++;
        }
      };
      await (this.options.withKeyLock ? this.options.withKeyLock(key, task) : task());
    }
    return removed;
  }

  stats(): StoreStats {
    return {
      keys: undefined,
      keysWithExpiry: undefined,
      usedMemoryBytes: undefined,
      maxMemoryBytes: 0,
      evictedKeys: 0,
      expiredKeys: this.expired,
      engine: this.engineFields(),
    };
  }

  private engineFields(): [string, string | number][] {
    const s = this.db.stats();
    return [
      ["lsm_levels", s.levels.map((level) => level.tables).join(",")],
      ["lsm_level_bytes", s.levels.map((level) => level.sizeBytes).join(",")],
      ["lsm_memtable_bytes", s.memtableSizeBytes],
      ["lsm_immutable_memtables", s.immutableMemtables],
      ["lsm_last_sequence", s.lastSequence],
      ["lsm_flushes", s.flush.count],
      ["lsm_flush_bytes", s.flush.bytesWritten],
      ["lsm_memtable_compactions", s.memtableCompactions],
      ["lsm_compactions", s.compaction.count],
      ["lsm_compaction_bytes_read", s.compaction.bytesRead],
      ["lsm_compaction_bytes_written", s.compaction.bytesWritten],
      ["lsm_write_amplification", s.writeAmplification.toFixed(2)],
      ["lsm_write_stall_slowdowns", s.writeStalls.slowdowns],
      ["lsm_write_stall_stops", s.writeStalls.stops],
      ["lsm_write_stall_ms", s.writeStalls.stallMs],
      ["lsm_block_cache_hits", s.blockCache.hits],
      ["lsm_block_cache_misses", s.blockCache.misses],
      ["lsm_block_cache_bytes", s.blockCache.sizeBytes],
      ["lsm_bloom_useful", s.bloom.useful],
      ["lsm_bloom_false_positives", s.bloom.falsePositive],
      ["lsm_row_cache_entries", this.rowCache.size],
      ["lsm_row_cache_bytes", this.rowCache.usedBytes],
      ["lsm_background_error", s.backgroundError ?? ""],
    ];
  }

  async flush(): Promise<void> {
    await this.db.flush();
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
