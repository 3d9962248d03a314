/**
 * The memory engine: the cache tier. Keys live in one Map (latin1 strings,
 * so any byte sequence is a key), which keeps order (LRU, FIFO) and serves
 * iteration, and in @scaleout/lsm's KeyIndex (the memtable's hash index of
 * key bytes) that serves lookups without a key string; memory is accounted per entry as 2 × key
 * bytes + value bytes + ENTRY_OVERHEAD_BYTES; past `maxmemory` the eviction policy
 * (eviction.ts) picks victims before a write is admitted.
 *
 * Two dense arrays let us sample uniformly at random in O(1), as Redis's dict
 * does: `slots` holds every entry (RANDOMKEY), `volatile` the entries with a
 * TTL (the active expiry cycle). Removal swaps the last element into the hole.
 */
import { hashBytes, KeyIndex, putBytes } from "@scaleout/lsm";
import {
  ACTIVE_EXPIRE_BUDGET_MS,
  ACTIVE_EXPIRE_KEYS_PER_LOOP,
  ACTIVE_EXPIRE_REPEAT_RATIO,
  ENTRY_OVERHEAD_BYTES,
  MAX_OPEN_SCAN_CURSORS,
} from "../limits.js";
import {
  type EvictionPolicy,
  LFU_COUNTER_MAX,
  LFU_INIT_VALUE,
  lfuDecay,
  lfuIncrement,
} from "./eviction.js";
import {
  type Clock,
  type KeyValueStore,
  PLAIN_WRITE,
  type PutItem,
  type ScanPage,
  type StoredEntry,
  type StoreStats,
  systemClock,
  type WriteOptions,
} from "./store.js";

/** What putPairs' touching loop read, kept so that the reads are not optimized away. */
export let touchSink = 0;

class MemoryEntry implements StoredEntry {
  slot = -1;
  volatileSlot = -1;
  lfuCounter = LFU_INIT_VALUE;
  lfuAccessMinutes = 0;
  integer: number | undefined = undefined;
  /**
   * Whether `value` has been handed out (a read's snapshot): then the next
   * write must give the entry a new buffer. Until then a write of the same
   * length copies into the buffer in place — no allocation, and no young
   * object stored into an old one for the scavenger to copy and promote
   * (most of an overwrite's cost in a write-heavy cache: MSET, SET).
   */
  valueShared = false;
  constructor(
    readonly key: string,
    public value: Uint8Array,
    public expiresAtMs: number,
    public flags: number,
    public cas: number,
    public sizeBytes: number,
  ) {}
}

export interface MemoryStoreOptions {
  /** 0 = unlimited. */
  maxMemoryBytes: number;
  eviction: EvictionPolicy;
  clock?: Clock;
  random?: () => number;
}

export class MemoryStore implements KeyValueStore {
  readonly engine = "memory" as const;
  /** Every entry by key string, in recency (lru) or insertion order: order and iteration. */
  private readonly entries = new Map<string, MemoryEntry>();
  /** The same entries by key bytes, for lookups: record number → entry in `byId`. */
  private readonly index = new KeyIndex();
  private readonly byId: (MemoryEntry | undefined)[] = [];
  private readonly slots: MemoryEntry[] = [];
  private readonly volatile: MemoryEntry[] = [];
  private readonly lfuBuckets: Set<MemoryEntry>[] = [];
  private readonly cursors = new Map<string, Iterator<MemoryEntry>>();
  private nextCursor = 1;
  /** The last key object looked up, a copy of its bytes, and what it found (see `find`). */
  private lastFoundKey: Uint8Array | undefined;
  private readonly lastFoundBytes = Buffer.alloc(LAST_KEY_COPY_BYTES);
  private lastFoundLength = 0;
  private lastFound: MemoryEntry | undefined;
  private usedBytes = 0;
  /** putPairs' record numbers and key hashes of one batch (reused). */
  private readonly batchIds = new Int32Array(64);
  private readonly batchHashes = new Int32Array(64);
  private nextCas = 1;
  private evicted = 0;
  private expired = 0;
  maxMemoryBytes: number;
  private policy: EvictionPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: MemoryStoreOptions) {
    this.maxMemoryBytes = options.maxMemoryBytes;
    this.policy = options.eviction;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    for (let i = 0; i <= LFU_COUNTER_MAX; i++) this.lfuBuckets.push(new Set());
  }

  get evictionPolicy(): EvictionPolicy {
    return this.policy;
  }

  /** Changing policy at run time (CONFIG SET) rebuilds the LFU buckets when needed. */
  setEvictionPolicy(policy: EvictionPolicy): void {
    if (policy === this.policy) return;
    for (const bucket of this.lfuBuckets) bucket.clear();
    this.policy = policy;
    if (policy === "lfu") {
      for (const entry of this.entries.values()) this.lfuBuckets[entry.lfuCounter]!.add(entry);
    }
  }

  get(key: Uint8Array): StoredEntry | undefined {
    const entry = this.find(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= this.clock()) {
      this.remove(entry);
      this.expired++;
      return undefined;
    }
    this.touch(entry);
    return snapshot(entry);
  }

  put(key: Uint8Array, value: Uint8Array, options: WriteOptions): StoredEntry {
    const entry = this.store(key, value, options);
    // The caller's own bytes, not the stored buffer: that one stays unshared (see valueShared).
    return {
      value,
      expiresAtMs: entry.expiresAtMs,
      flags: entry.flags,
      cas: entry.cas,
      integer: entry.integer,
    };
  }

  /** Stores the entry; returns it live (callers outside the engine get a snapshot). */
  private store(key: Uint8Array, value: Uint8Array, options: WriteOptions): MemoryEntry {
    return this.storeRange(key, 0, key.length, this.find(key), value, 0, value.length, options);
  }

  /**
   * Stores key `keySource[keyStart, keyEnd)` — whose live entry `existing`
   * the caller looked up — with value `valueSource[valueStart, valueEnd)`.
   */
  private storeRange(
    keySource: Uint8Array,
    keyStart: number,
    keyEnd: number,
    existing: MemoryEntry | undefined,
    valueSource: Uint8Array,
    valueStart: number,
    valueEnd: number,
    options: WriteOptions,
  ): MemoryEntry {
    const valueLength = valueEnd - valueStart;
    const sizeBytes = 2 * (keyEnd - keyStart) + valueLength + ENTRY_OVERHEAD_BYTES;
    const cas = options.cas ?? this.nextCas++;
    if (existing !== undefined) {
      this.usedBytes += sizeBytes - existing.sizeBytes;
      if (existing.valueShared || existing.value.length !== valueLength) {
        existing.value = copyOf(valueSource, valueStart, valueEnd);
        existing.valueShared = false;
      } else {
        putBytes(existing.value, 0, valueSource, valueStart, valueEnd);
      }
      existing.sizeBytes = sizeBytes;
      existing.flags = options.flags;
      existing.cas = cas;
      existing.integer = options.integer;
      this.setExpiry(existing, options.expiresAtMs);
      this.touch(existing);
      return existing;
    }
    const name = keyName(keySource, keyStart, keyEnd);
    const entry = new MemoryEntry(
      name,
      copyOf(valueSource, valueStart, valueEnd),
      0,
      options.flags,
      cas,
      sizeBytes,
    );
    entry.integer = options.integer;
    this.entries.set(name, entry);
    const hash = hashBytes(keySource, keyStart, keyEnd);
    this.byId[this.index.add(keySource, keyStart, keyEnd, hash)] = entry;
    entry.slot = this.slots.length;
    this.slots.push(entry);
    this.usedBytes += sizeBytes;
    this.setExpiry(entry, options.expiresAtMs);
    if (this.policy === "lfu") {
      entry.lfuAccessMinutes = this.nowMinutes();
      this.lfuBuckets[entry.lfuCounter]!.add(entry);
    }
    return entry;
  }

  /**
   * The live entry named `key`. A read-modify-write (INCR, APPEND, GETSET)
   * looks its key up twice with the same argument: the second time is
   * answered from the first (checked byte for byte against a copy of the key
   * taken then — the caller may have reused its buffer — and only while the
   * entry is still stored), saving a key string and a hash lookup.
   */
  private find(key: Uint8Array): MemoryEntry | undefined {
    const last = this.lastFound;
    if (
      key === this.lastFoundKey &&
      last !== undefined &&
      last.slot !== -1 &&
      sameBytes(this.lastFoundBytes, this.lastFoundLength, key)
    ) {
      return last;
    }
    const id = this.index.find(key, 0, key.length, hashBytes(key, 0, key.length));
    const entry = id < 0 ? undefined : this.byId[id];
    this.lastFound = entry;
    if (entry !== undefined && key.length <= LAST_KEY_COPY_BYTES) {
      this.lastFoundKey = key;
      putBytes(this.lastFoundBytes, 0, key);
      this.lastFoundLength = key.length;
    } else {
      this.lastFoundKey = undefined;
    }
    return entry;
  }

  putMany(items: readonly PutItem[]): void {
    for (const item of items) this.store(item.key, item.value, item.options);
  }

  /**
   * MSET's pairs straight from the request. Breadth-first over the batch:
   * every key is looked up, then every found entry and its value buffer are
   * read once, and only then are the writes made. Each of those steps is a
   * cache miss on a busy node (~200 ns), dependent on the step before for
   * one key but independent across keys — done key by key they queue up,
   * level by level the processor overlaps them.
   */
  putPairs(source: Buffer, ranges: Int32Array, first: number, end: number): void {
    const pairs = (end - first) >> 1;
    const small = pairs <= this.batchIds.length;
    const ids = small ? this.batchIds : new Int32Array(pairs);
    const hashes = small ? this.batchHashes : new Int32Array(pairs);
    for (let p = 0; p < pairs; p++) {
      const keyStart = ranges[2 * (first + 2 * p)]!;
      const keyEnd = ranges[2 * (first + 2 * p) + 1]!;
      hashes[p] = hashBytes(source, keyStart, keyEnd);
      ids[p] = this.index.find(source, keyStart, keyEnd, hashes[p]!);
    }
    let touched = 0;
    for (let p = 0; p < pairs; p++) {
      const entry = ids[p]! < 0 ? undefined : this.byId[ids[p]!];
      if (entry !== undefined) touched += entry.sizeBytes + entry.value.length;
    }
    touchSink = touched;
    for (let p = 0; p < pairs; p++) {
      const i = first + 2 * p;
      const keyStart = ranges[2 * i]!;
      const keyEnd = ranges[2 * i + 1]!;
      // A key new to this batch may have been added by an earlier pair (MSET a 1 a 2): look again.
      const id = ids[p]! >= 0 ? ids[p]! : this.index.find(source, keyStart, keyEnd, hashes[p]!);
      const existing = id < 0 ? undefined : this.byId[id];
      this.storeRange(
        source,
        keyStart,
        keyEnd,
        existing,
        source,
        ranges[2 * i + 2]!,
        ranges[2 * i + 3]!,
        PLAIN_WRITE,
      );
    }
  }

  delete(key: Uint8Array): boolean {
    const entry = this.find(key);
    if (entry === undefined) return false;
    this.remove(entry);
    if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= this.clock()) {
      this.expired++;
      return false;
    }
    return true;
  }

  count(): number {
    return this.entries.size;
  }

  scan(cursor: string, count: number): ScanPage {
    let iterator: Iterator<MemoryEntry> | undefined;
    if (cursor === "0") {
      iterator = this.entries.values();
    } else {
      iterator = this.cursors.get(cursor);
      this.cursors.delete(cursor);
      if (iterator === undefined) return { cursor: "0", keys: [] };
    }
    const keys: Uint8Array[] = [];
    const now = this.clock();
    while (keys.length < count) {
      const next = iterator.next();
      if (next.done === true) return { cursor: "0", keys };
      const entry = next.value;
      if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= now) continue;
      keys.push(fromKey(entry.key));
    }
    const id = String(this.nextCursor++);
    this.cursors.set(id, iterator);
    if (this.cursors.size > MAX_OPEN_SCAN_CURSORS) {
      const oldest = this.cursors.keys().next();
      if (oldest.done !== true) this.cursors.delete(oldest.value);
    }
    return { cursor: id, keys };
  }

  async *keys(): AsyncIterable<Uint8Array> {
    const now = this.clock();
    for (const entry of Array.from(this.entries.values())) {
      if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= now) continue;
      yield fromKey(entry.key);
    }
  }

  randomKey(): Uint8Array | undefined {
    const now = this.clock();
    // Like Redis, give up after a bounded number of expired picks.
    for (let attempt = 0; attempt < 100 && this.slots.length > 0; attempt++) {
      const entry = this.slots[Math.floor(this.random() * this.slots.length)]!;
      if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= now) {
        this.remove(entry);
        this.expired++;
        continue;
      }
      return fromKey(entry.key);
    }
    return undefined;
  }

  clear(): void {
    this.lastFound = undefined;
    this.lastFoundKey = undefined;
    this.entries.clear();
    this.index.clear();
    this.byId.length = 0;
    this.slots.length = 0;
    this.volatile.length = 0;
    for (const bucket of this.lfuBuckets) bucket.clear();
    this.cursors.clear();
    this.usedBytes = 0;
  }

  admitWrite(): boolean {
    if (this.maxMemoryBytes === 0 || this.usedBytes <= this.maxMemoryBytes) return true;
    if (this.policy === "noeviction") return false;
    while (this.usedBytes > this.maxMemoryBytes) {
      const victim = this.pickVictim();
      if (victim === undefined) return false;
      this.remove(victim);
      this.evicted++;
    }
    return true;
  }

  activeExpireCycle(): number {
    const started = performance.now();
    let total = 0;
    for (;;) {
      const sample = Math.min(ACTIVE_EXPIRE_KEYS_PER_LOOP, this.volatile.length);
      if (sample === 0) break;
      const now = this.clock();
      let expiredNow = 0;
      for (let i = 0; i < sample && this.volatile.length > 0; i++) {
        const entry = this.volatile[Math.floor(this.random() * this.volatile.length)]!;
        if (entry.expiresAtMs <= now) {
          this.remove(entry);
          expiredNow++;
        }
      }
      total += expiredNow;
      this.expired += expiredNow;
      if (expiredNow <= sample * ACTIVE_EXPIRE_REPEAT_RATIO) break;
      if (performance.now() - started > ACTIVE_EXPIRE_BUDGET_MS) break;
    }
    return total;
  }

  stats(): StoreStats {
    return {
      keys: this.entries.size,
      keysWithExpiry: this.volatile.length,
      usedMemoryBytes: this.usedBytes,
      maxMemoryBytes: this.maxMemoryBytes,
      evictedKeys: this.evicted,
      expiredKeys: this.expired,
      engine: [],
    };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  private pickVictim(): MemoryEntry | undefined {
    if (this.policy === "lfu") {
      for (const bucket of this.lfuBuckets) {
        const first = bucket.values().next();
        if (first.done !== true) return first.value;
      }
      return undefined;
    }
    // lru keeps the Map in recency order, fifo in insertion order: the first key goes.
    const first = this.entries.values().next();
    return first.done === true ? undefined : first.value;
  }

  private touch(entry: MemoryEntry): void {
    if (this.policy === "lru") {
      this.entries.delete(entry.key);
      this.entries.set(entry.key, entry);
    } else if (this.policy === "lfu") {
      const now = this.nowMinutes();
      const counter = lfuIncrement(
        lfuDecay(entry.lfuCounter, entry.lfuAccessMinutes, now),
        this.random,
      );
      entry.lfuAccessMinutes = now;
      if (counter !== entry.lfuCounter) {
        this.lfuBuckets[entry.lfuCounter]!.delete(entry);
        entry.lfuCounter = counter;
        this.lfuBuckets[counter]!.add(entry);
      }
    }
  }

  private setExpiry(entry: MemoryEntry, expiresAtMs: number): void {
    entry.expiresAtMs = expiresAtMs;
    if (expiresAtMs !== 0 && entry.volatileSlot === -1) {
      entry.volatileSlot = this.volatile.length;
      this.volatile.push(entry);
    } else if (expiresAtMs === 0 && entry.volatileSlot !== -1) {
      removeFromDense(this.volatile, entry.volatileSlot, (moved, slot) => {
        moved.volatileSlot = slot;
      });
      entry.volatileSlot = -1;
    }
  }

  private remove(entry: MemoryEntry): void {
    this.entries.delete(entry.key);
    const key = fromKey(entry.key);
    const id = this.index.remove(key, 0, key.length, hashBytes(key, 0, key.length));
    if (id >= 0) this.byId[id] = undefined;
    removeFromDense(this.slots, entry.slot, (moved, slot) => {
      moved.slot = slot;
    });
    entry.slot = -1;
    if (entry.volatileSlot !== -1) {
      removeFromDense(this.volatile, entry.volatileSlot, (moved, slot) => {
        moved.volatileSlot = slot;
      });
      entry.volatileSlot = -1;
    }
    if (this.policy === "lfu") this.lfuBuckets[entry.lfuCounter]!.delete(entry);
    this.usedBytes -= entry.sizeBytes;
  }

  private nowMinutes(): number {
    return Math.floor(this.clock() / 60_000);
  }
}

/** Keys up to this long are remembered for the next lookup (longer ones are looked up each time). */
const LAST_KEY_COPY_BYTES = 256;

/** Whether `copy[0, length)` holds the bytes of `key`. */
export function sameBytes(copy: Buffer, length: number, key: Uint8Array): boolean {
  return sameBytesRange(copy, length, key, 0, key.length);
}

/** Whether the first `length` bytes of `copy` are source[start, end). */
export function sameBytesRange(
  copy: Buffer,
  length: number,
  source: Uint8Array,
  start: number,
  end: number,
): boolean {
  if (length !== end - start) return false;
  for (let i = length - 1; i >= 0; i--) if (copy[i] !== source[start + i]) return false;
  return true;
}

/** A copy: `value` is usually a view into a socket chunk, which must not be pinned. */
function copyOf(source: Uint8Array, start: number, end: number): Buffer {
  const copy = Buffer.allocUnsafe(end - start);
  putBytes(copy, 0, source, start, end);
  return copy;
}

/**
 * What a read returns: entries are mutated in place on overwrite, so callers
 * get a copy of the fields — and the value's buffer, which is then shared
 * (see MemoryEntry.valueShared).
 */
function snapshot(entry: MemoryEntry): StoredEntry {
  entry.valueShared = true;
  return {
    value: entry.value,
    expiresAtMs: entry.expiresAtMs,
    flags: entry.flags,
    cas: entry.cas,
    integer: entry.integer,
  };
}

function removeFromDense(
  list: MemoryEntry[],
  slot: number,
  relocate: (moved: MemoryEntry, slot: number) => void,
): void {
  const last = list.pop()!;
  if (slot < list.length) {
    list[slot] = last;
    relocate(last, slot);
  }
}

/** Keys are held as latin1 strings: one char per byte, so any byte string round-trips. */
export function toKey(key: Uint8Array): string {
  return keyName(key, 0, key.length);
}

/** `toKey` of source[start, end). */
function keyName(source: Uint8Array, start: number, end: number): string {
  // Arguments are Buffers already: no view to make (the hot path).
  if (source instanceof Buffer) return source.toString("latin1", start, end);
  return Buffer.from(source.buffer, source.byteOffset + start, end - start).toString("latin1");
}

export function fromKey(key: string): Buffer {
  return Buffer.from(key, "latin1");
}
