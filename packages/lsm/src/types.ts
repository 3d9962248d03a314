/** The engine's public types: options, the Database interface, iterators, snapshots, stats. */
import type { WriteBatch } from "./write-batch.js";

export type SyncPolicy = "always" | "everysec" | "never";

export interface Logger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface OpenOptions {
  /**
   * When a write is acknowledged:
   * - "always": after the log record is fsynced (group commit shares one fsync among concurrent writers);
   * - "everysec" (default): after write(2) to the log; a background fsync runs every second;
   * - "never": after write(2); fsync is left to the OS.
   */
  syncPolicy?: SyncPolicy;
  /** Memtable size that triggers a switch to a new memtable and a background flush. */
  memtableSizeBytes?: number;
  /** Byte budget of the decoded-block LRU cache. */
  blockCacheSizeBytes?: number;
  /** Target size of a table data block before it is cut. */
  blockSizeBytes?: number;
  /** Bloom filter bits per key (10 ≈ 1 % false positives); 0 disables filters. */
  bloomBitsPerKey?: number;
  logger?: Logger;
  /** Create the directory and an empty database if missing (default true). */
  createIfMissing?: boolean;
  /** Compaction write budget in bytes per second (default 64 MiB/s). */
  compactionRateBytesPerSecond?: number;
  /**
   * How table blocks missing from the block cache are read (default "sync"):
   * "sync" preads on the event loop (fastest when tables sit in the OS page
   * cache; a cold disk read blocks the loop for the device latency), "async"
   * preads in libuv's thread pool (the loop never waits on the disk, each miss
   * pays a thread-pool round trip). See README "Read path".
   */
  readMode?: "sync" | "async";
  /**
   * Called during a flush with the newest version of each key the flush
   * writes (`value` undefined for a deletion), in key order, while the
   * memtable being flushed still answers reads of that key. A cache kept
   * coherent with the tables updates itself here, and is warmed with what
   * was just written (RocksDB's prepopulate_block_cache, for rows). `key` and
   * `value` are views valid during the call only: copy what you keep. An
   * exception fails the flush. Not called for the log replayed by `open`
   * (nothing can have been cached before it).
   */
  onFlushEntry?: FlushEntryListener;
}

export type FlushEntryListener = (key: Buffer, value: Buffer | undefined) => void;

export interface Snapshot {
  /** Sequence number the snapshot reads at. */
  readonly sequence: number;
  release(): void;
}

export interface ReadOptions {
  snapshot?: Snapshot;
}

export interface IteratorOptions {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  /** Maximum number of entries; -1 or undefined for no limit. */
  limit?: number;
  snapshot?: Snapshot;
}

export interface LevelStats {
  level: number;
  tables: number;
  sizeBytes: number;
}

export interface EngineStats {
  levels: LevelStats[];
  memtableSizeBytes: number;
  immutableMemtables: number;
  lastSequence: number;
  bloom: {
    /** Lookups where a filter proved the key absent and the table was skipped. */
    useful: number;
    /** Lookups where a filter said "maybe" but the table did not hold the key. */
    falsePositive: number;
    /** Lookups where a filter said "maybe" and the key was there. */
    truePositive: number;
  };
  blockCache: {
    hits: number;
    misses: number;
    hitRate: number;
    sizeBytes: number;
    capacityBytes: number;
  };
  writeStalls: {
    /** Write groups delayed because L0 had too many tables. */
    slowdowns: number;
    /** Write groups stopped until a flush or compaction finished. */
    stops: number;
    stallMs: number;
  };
  flush: { count: number; bytesWritten: number };
  /** Full memtables whose overwritten values were dropped in memory instead of flushed. */
  memtableCompactions: number;
  compaction: { count: number; bytesRead: number; bytesWritten: number };
  /** Bytes of keys and values accepted from callers. */
  userBytesWritten: number;
  /** Bytes written to commit logs. */
  logBytesWritten: number;
  /** (log + flush + compaction bytes written) / user bytes written. */
  writeAmplification: number;
  /** Background error that stopped writes, if any. */
  backgroundError: string | null;
}

export interface Database {
  get(key: Uint8Array, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /**
   * `get` without a promise when no I/O is needed (memtable or cached block);
   * the value is a read-only view into engine memory (copy it to keep it).
   */
  lookup(
    key: Uint8Array,
    options?: ReadOptions,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /**
   * What the memtables (current and immutable) know of `key` at the latest
   * sequence, without touching a table: its newest value (a read-only view
   * into engine memory), null when that newest version is a deletion,
   * undefined when no memtable holds the key (the tables may). Always
   * synchronous: one hash lookup per memtable.
   */
  lookupMemtables(key: Uint8Array): Uint8Array | null | undefined;
  /** Resolves when durable per syncPolicy. */
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  delete(key: Uint8Array): Promise<void>;
  /** Applies the whole batch atomically. */
  write(batch: WriteBatch): Promise<void>;
  /**
   * Buffered writes ("everysec" and "never" only): applied at once, visible
   * to reads at once, their log record written by the next `commitBuffered()`
   * (scheduled by the engine once per event-loop turn; call it yourself before
   * acknowledging a write to anyone). False means "use put/delete/write"
   * (policy "always", writes queued ahead, memtable full, stall, error, closing).
   * `putBuffered` with a `prefix` stores `prefix` followed by `value` (the
   * caller's header written straight into the log record, no concatenation).
   */
  putBuffered(key: Uint8Array, value: Uint8Array, prefix?: Uint8Array): boolean;
  deleteBuffered(key: Uint8Array): boolean;
  writeBuffered(batch: WriteBatch): boolean;
  /**
   * `writeBuffered` of puts given as ranges of one buffer (a parsed request's
   * arguments): argument i is source[ranges[2i], ranges[2i + 1]), keys are
   * arguments first, first + 2, … < end, each followed by its value, stored
   * as `prefixBytes` bytes written by `writePrefix(out, offset)` followed by
   * the value's bytes. No WriteBatch and no view per key or value.
   */
  putPairsBuffered(
    source: Uint8Array,
    ranges: Int32Array,
    first: number,
    end: number,
    prefixBytes: number,
    writePrefix: (out: Buffer, offset: number) => void,
  ): boolean;
  /** Writes buffered log records now (one write(2)); throws if the write fails. */
  commitBuffered(): void;
  iterator(options?: IteratorOptions): AsyncIterableIterator<[Uint8Array, Uint8Array]>;
  snapshot(): Snapshot;
  /** Writes the current memtable to a table and waits for it (and for earlier flushes). */
  flush(): Promise<void>;
  /** Flushes, then compacts until no level is over its target (every level >= 1 holds disjoint tables). */
  compact(): Promise<void>;
  stats(): EngineStats;
  close(): Promise<void>;
}
