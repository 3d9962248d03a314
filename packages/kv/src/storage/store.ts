/**
 * The storage seam. Every protocol (RESP, memcached, HTTP) reaches data only
 * through a `KeyValueStore`; the command layer never knows which engine is
 * behind it. The cluster coordinator plugs in here: it can implement this
 * interface by forwarding to the replicas that own a key.
 *
 * Methods may answer synchronously or with a promise: the memory engine
 * always answers synchronously, the lsm engine synchronously unless it needs
 * disk I/O or an fsync (appendfsync always). Callers handle both (the hot
 * commands stay synchronous when the store does, so a command costs no
 * promise). Writes answered synchronously may still sit in a buffer: see
 * `commitWrites`. Atomicity of read-modify-write commands
 * is not the store's job: the command scheduler (`commands/scheduler.ts`)
 * serializes commands per key.
 */

export type EngineName = "memory" | "lsm";
export type Awaitable<T> = T | Promise<T>;

/** One stored value with the metadata both protocols need. */
export interface StoredEntry {
  readonly value: Uint8Array;
  /** Absolute expiry, Unix ms; 0 = never expires. */
  readonly expiresAtMs: number;
  /** memcached client flags (32-bit unsigned); 0 for values written over RESP. */
  readonly flags: number;
  /** memcached CAS unique: changes on every write of the key. */
  readonly cas: number;
  /**
   * The value as a number, when its writer stored an integer (INCR's result):
   * exactly the number the value's digits spell. Redis's int encoding — a
   * read-modify-write need not read the value's bytes. Engines may omit it.
   */
  readonly integer?: number | undefined;
}

export interface WriteOptions {
  expiresAtMs: number;
  flags: number;
  /** Keep this CAS instead of assigning a new one (memcached touch/gat change only the expiry). */
  cas?: number;
  /** `value` spells this integer (see StoredEntry.integer); engines may ignore it. */
  integer?: number;
}

/** Options of a plain write (SET without options, MSET): no expiry, flags 0, a new CAS. */
export const PLAIN_WRITE: WriteOptions = Object.freeze({ expiresAtMs: 0, flags: 0 });

export interface PutItem {
  key: Uint8Array;
  value: Uint8Array;
  options: WriteOptions;
}

export interface ScanPage {
  /** "0" when the iteration is complete. */
  cursor: string;
  keys: Uint8Array[];
}

export interface StoreStats {
  keys: number | undefined;
  keysWithExpiry: number | undefined;
  /** Bytes accounted for entries (memory engine), or undefined. */
  usedMemoryBytes: number | undefined;
  maxMemoryBytes: number;
  evictedKeys: number;
  expiredKeys: number;
  /**
   * Engine internals for `INFO storage` as field/value pairs (the lsm
   * engine's levels, flushes, compactions, write stalls and caches); empty
   * when the engine has none to report.
   */
  engine: [string, string | number][];
}

export interface KeyValueStore {
  readonly engine: EngineName;
  /** The live entry, or undefined; an expired entry is removed on the way (lazy expiry). */
  get(key: Uint8Array): Awaitable<StoredEntry | undefined>;
  /** Stores `value` (copied) and returns the entry as stored, with its new CAS. */
  put(key: Uint8Array, value: Uint8Array, options: WriteOptions): Awaitable<StoredEntry>;
  /** Stores several entries atomically (MSET, MSETNX): all or none survive a crash. */
  putMany(items: readonly PutItem[]): Awaitable<void>;
  /**
   * `putMany` of plain writes (no expiry, flags 0) given as ranges of one
   * buffer, as the RESP parser finds an MSET's arguments: argument i is
   * source[ranges[2i], ranges[2i + 1]), keys are arguments first, first + 2,
   * … < end, each followed by its value. Optional: without it, MSET makes
   * views and calls putMany. The ranges may be reused once this returns
   * (even if it returns a promise); `source` stays unchanged.
   */
  putPairs?(source: Buffer, ranges: Int32Array, first: number, end: number): Awaitable<void>;
  /**
   * INCR's fast path, optional: when the key's newest value is at hand
   * without I/O, has no expiry and spells a small integer
   * (parseSmallInteger), stores that integer plus `delta` (|delta| ≤ 10^9)
   * with the entry's flags and returns it. Undefined, having changed nothing,
   * whenever the caller must take the general path (get, then put).
   */
  incrementSmall?(key: Uint8Array, delta: number): number | undefined;
  /** Removes the key; true when a live entry was removed. */
  delete(key: Uint8Array): Awaitable<boolean>;
  /** Number of keys (may include expired keys not yet reaped, as Redis's DBSIZE does). */
  count(): Awaitable<number>;
  /** One page of a full iteration; guarantees every key present throughout is returned at least once. */
  scan(cursor: string, count: number): Awaitable<ScanPage>;
  /** Every live key (KEYS); ordered by key on lsm, by insertion on memory. */
  keys(): AsyncIterable<Uint8Array>;
  randomKey(): Awaitable<Uint8Array | undefined>;
  clear(): Awaitable<void>;
  /**
   * Called before a command that may grow memory. Evicts per policy when over
   * `maxmemory`; false means the write must be refused (noeviction, or
   * nothing left to evict) with Redis's OOM error.
   */
  admitWrite(): boolean;
  /** One active-expiry cycle (sampling); returns keys expired. */
  activeExpireCycle(): Awaitable<number>;
  stats(): StoreStats;
  /**
   * Hands writes the store took synchronously but has not yet written to the
   * OS (the lsm engine's buffered path) to the OS now. Every server calls it
   * before it writes replies, so no write is acknowledged before its write(2).
   * Throws when that write fails (the replies must then not be sent).
   * Optional: stores without buffered writes leave it out.
   */
  commitWrites?(): void;
  /** Makes acknowledged writes durable (no-op for memory). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function isExpired(entry: StoredEntry, nowMs: number): boolean {
  return entry.expiresAtMs !== 0 && entry.expiresAtMs <= nowMs;
}

export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** A write the engine cannot take (value over the engine's limit); answered as `-ERR <message>`. */
export class StoreLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreLimitError";
  }
}
