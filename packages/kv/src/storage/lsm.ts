/**
 * The lsm engine: durable storage on packages/lsm. Entries are encoded with
 * their TTL, flags and CAS (entry-codec.ts). `appendfsync` maps onto the
 * engine's sync policy: always → "always" (a write is acknowledged after its
 * log record is fsynced; concurrent writers share one fsync), everysec →
 * "everysec", no → "never".
 *
 * Reads go through a write-through row cache of decoded entries
 * (row-cache.ts, DEFAULT_ROW_CACHE_SIZE_BYTES) before the engine.
 *
 * Costs worth knowing: DEL reads before deleting (to answer 0 or 1); DBSIZE,
 * KEYS, FLUSHALL and the keyspace line of INFO scan the whole tree (O(n));
 * RANDOMKEY seeks to a random prefix, so it is random but not uniform.
 * Expiry is lazy on read, plus an active cycle that walks the key space a
 * slice at a time (LSM_EXPIRE_SCAN_KEYS_PER_TICK keys per tick) and deletes
 * what has expired under the key's scheduler lock.
 */
import { type Database, MAX_VALUE_SIZE_BYTES, open, WriteBatch } from "@scaleout/lsm";
import {
  DEFAULT_ROW_CACHE_SIZE_BYTES,
  LSM_EXPIRE_SCAN_KEYS_PER_TICK,
  MAX_OPEN_SCAN_CURSORS,
} from "../limits.js";
import { decodeEntry, decodeExpiry, ENTRY_HEADER_BYTES, encodeEntry } from "./entry-codec.js";
import { toKey } from "./memory.js";
import { RowCache } from "./row-cache.js";
import {
  type Clock,
  type KeyValueStore,
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
  rowCacheSizeBytes?: number;
  /** Runs `task` holding the key's command lock (the active expiry must not race a writer). */
  withKeyLock?: (key: Uint8Array, task: () => Promise<void>) => Promise<void>;
}

export class LsmStore implements KeyValueStore {
  readonly engine = "lsm" as const;
  private readonly cursors = new Map<string, Uint8Array>();
  private readonly rowCache: RowCache;
  private nextCursor = 1;
  /** CAS values start at the wall clock in µs so they keep growing across restarts. */
  private nextCas = Date.now() * 1000;
  private expired = 0;
  private expireCursor: Uint8Array | undefined;
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
    };
    if (options.memtableSizeBytes !== undefined)
      openOptions.memtableSizeBytes = options.memtableSizeBytes;
    if (options.blockCacheSizeBytes !== undefined)
      openOptions.blockCacheSizeBytes = options.blockCacheSizeBytes;
    if (options.logger !== undefined) openOptions.logger = options.logger;
    const db = await open(options.dataDir, openOptions);
    return new LsmStore(db, options);
  }

  get database(): Database {
    return this.db;
  }

  /** Synchronous on a row-cache hit (no promise), asynchronous otherwise. */
  get(key: Uint8Array): StoredEntry | undefined | Promise<StoredEntry | undefined> {
    const name = toKey(key);
    const cached = this.rowCache.get(name);
    if (cached === undefined) return this.readThrough(key, name);
    if (cached.expiresAtMs !== 0 && cached.expiresAtMs <= this.clock())
      return this.expire(key, name);
    return cached;
  }

  private async readThrough(key: Uint8Array, name: string): Promise<StoredEntry | undefined> {
    const raw = await this.db.get(key);
    if (raw === undefined) return undefined;
    const decoded = decodeEntry(raw);
    // Copy out of the engine's block so the cache does not pin whole blocks.
    const entry = { ...decoded, value: Buffer.from(decoded.value) };
    if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= this.clock()) return this.expire(key, name);
    this.rowCache.set(name, entry);
    return entry;
  }

  private async expire(key: Uint8Array, name: string): Promise<undefined> {
    this.rowCache.delete(name);
    await this.db.delete(key);
    this.expired++;
    return undefined;
  }

  async put(key: Uint8Array, value: Uint8Array, options: WriteOptions): Promise<StoredEntry> {
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
    await this.db.put(key, encodeEntry(entry));
    this.rowCache.set(toKey(key), { ...entry, value: Buffer.from(value) });
    return entry;
  }

  async putMany(items: readonly PutItem[]): Promise<void> {
    const batch = new WriteBatch();
    const cached: [string, StoredEntry][] = [];
    for (const item of items) {
      if (item.value.length > LSM_MAX_VALUE_BYTES) {
        throw new StoreLimitError(
          `value is too large for the lsm engine (max ${LSM_MAX_VALUE_BYTES} bytes)`,
        );
      }
      const entry: StoredEntry = {
        value: item.value,
        expiresAtMs: item.options.expiresAtMs,
        flags: item.options.flags,
        cas: item.options.cas ?? this.nextCas++,
      };
      batch.put(item.key, encodeEntry(entry));
      cached.push([toKey(item.key), { ...entry, value: Buffer.from(item.value) }]);
    }
    await this.db.write(batch);
    for (const [name, entry] of cached) this.rowCache.set(name, entry);
  }

  async delete(key: Uint8Array): Promise<boolean> {
    const existing = await this.get(key);
    if (existing === undefined) return false;
    this.rowCache.delete(toKey(key));
    await this.db.delete(key);
    return true;
  }

  async count(): Promise<number> {
    let count = 0;
    const now = this.clock();
    for await (const [, raw] of this.db.iterator()) {
      const expiresAtMs = decodeExpiry(raw);
      if (expiresAtMs === 0 || expiresAtMs > now) count++;
    }
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

  async activeExpireCycle(): Promise<number> {
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
      if (expiresAtMs !== 0 && expiresAtMs <= now) candidates.push(Buffer.from(key));
    }
    this.expireCursor =
      seen < LSM_EXPIRE_SCAN_KEYS_PER_TICK || last === undefined ? undefined : Buffer.from(last);
    let removed = 0;
    for (const key of candidates) {
      const task = async (): Promise<void> => {
        // Re-check under the lock: a writer may have replaced the value since the scan.
        const raw = await this.db.get(key);
        if (raw === undefined) return;
        const expiresAtMs = decodeExpiry(raw);
        if (expiresAtMs !== 0 && expiresAtMs <= this.clock()) {
          this.rowCache.delete(toKey(key));
          await this.db.delete(key);
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
    };
  }

  async flush(): Promise<void> {
    await this.db.flush();
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
