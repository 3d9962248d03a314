/**
 * The memtable: recent writes, readable by key at once and iterable in
 * internal-key order (key ascending, then sequence descending).
 *
 * Layout: a hash index from each user key to its record, and per record a
 * linked chain of versions, newest first (every version of a key is
 * kept, which is what snapshots need). Order is made lazily: new keys are
 * appended to an unsorted list, and the sorted array of records is rebuilt
 * (sort the new keys, merge them into the sorted ones) only when an iterator
 * is created.
 *
 * Why not a skiplist (LevelDB's choice, and ours until this layout): an
 * insert walked ~30 string comparisons through scattered nodes, ~2.5 µs at
 * 40 k entries, and a write-heavy node spends most of its time there. Here an
 * insert is one hash probe; a point read is one hash probe plus a walk of
 * the key's versions; the sort is paid once per iterator creation
 * (O(n) merge of what is already sorted plus O(m log m) for m new keys), and
 * for an immutable memtable once, at its flush.
 *
 * Iterators see the keys present when they were created, and every version of
 * those keys (including versions added later: readers filter by sequence, so
 * those are invisible to them; a key created after the iterator has a higher
 * sequence than the iterator reads at anyway). Records and versions are never
 * freed while the memtable lives, so iterators stay valid while inserts
 * continue; a version is rewritten only by an in-place overwrite, which the
 * engine allows only while no iterator or snapshot is open
 * (`overwriteInPlace`), and its bytes move only by `compactValues`, which
 * copies them unchanged.
 *
 * The index hashes the key bytes themselves (key-index.ts: typed arrays,
 * no string per lookup). Records get their key as a latin1 string only when
 * they are first sorted: latin1 maps every byte to one UTF-16 code unit of
 * the same value, so JavaScript's string order is exactly bytewise order.
 */
import { putBytes } from "./coding.js";
import { TYPE_DELETION } from "./constants.js";
import type { InternalIterator } from "./internal-iterator.js";
import { hashBytes, KeyIndex } from "./key-index.js";

/** Bookkeeping per entry (version object, map slot, record share), counted in the size bound. */
const NODE_OVERHEAD_BYTES = 64;
/*
 * State of a record's newest version object, kept in its newest row next to
 * the type (type + 4 × state: the write that updates the row reads it from the
 * same cache line).
 */
/** The version object is current and the record not in staleIds. */
const CURRENT = 0;
/** An overwrite in place is only in the newest row (the record is in staleIds). */
const STALE = 1;
/** Current again (read since), but still in staleIds. */
const LISTED = 2;
/** Chunk size of the copies `compactValues` makes. */
const COMPACTED_CHUNK_BYTES = 1024 * 1024;

/**
 * One version of a key. Exposes `type` and `value` to readers
 * (`Memtable.get`). The value is kept as a range of the buffer it arrived in
 * (a commit log chunk) and viewed on demand: a view object per entry would
 * double the memtable's heap objects and the garbage collector's work.
 */
export class MemtableVersion {
  /** Next older version of the same key, or null. */
  older: MemtableVersion | null = null;
  constructor(
    readonly record: KeyRecord,
    public seq: number,
    public type: number,
    /** The buffer holding the value at [valueStart, valueEnd) (read-only outside the memtable). */
    public valueSource: Buffer,
    public valueStart: number,
    public valueEnd: number,
  ) {}

  /** Becomes a newer version of its key in place (see Memtable.overwriteInPlace). */
  replace(seq: number, type: number, source: Buffer, valueStart: number, valueEnd: number): void {
    this.seq = seq;
    this.type = type;
    this.valueSource = source;
    this.valueStart = valueStart;
    this.valueEnd = valueEnd;
  }

  get value(): Buffer {
    return this.valueSource.subarray(this.valueStart, this.valueEnd);
  }

  get valueLength(): number {
    return this.valueEnd - this.valueStart;
  }

  /** Moves the value to `target[start, …)` (a copy: views of the old bytes stay valid). */
  moveValue(target: Buffer, start: number): void {
    const end = putBytes(target, start, this.valueSource, this.valueStart, this.valueEnd);
    this.valueSource = target;
    this.valueStart = start;
    this.valueEnd = end;
  }

  /** The next newer version of the same key, or null (a walk from the newest: rare, reverse iteration only). */
  newer(): MemtableVersion | null {
    let version = this.record.newest;
    if (version === this) return null;
    while (version !== null && version.older !== this) version = version.older;
    return version;
  }
}

/** Every version of one user key. */
class KeyRecord {
  newest: MemtableVersion | null = null;
  oldest: MemtableVersion | null = null;
  /** `key` decoded as latin1 (compares like the bytes); set when the record is first sorted. */
  text = "";
  constructor(public key: Buffer) {}
}

function byText(a: KeyRecord, b: KeyRecord): number {
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

export class Memtable {
  /** Every record, by its number in `index` (insertion order). */
  private readonly records: KeyRecord[] = [];
  /**
   * Each record's newest version, by record number (= `records[id].newest`):
   * a write or read reaches it without first loading the record, one
   * dependent cache miss fewer on the hot path.
   */
  private readonly newestById: MemtableVersion[] = [];
  /**
   * The newest write of each key, at 4 × id: sequence, type + 4 × object
   * state, value start, value end; its value's buffer is `newestSource[id]`.
   * Always current, unlike the newest version object, which an overwrite in
   * place leaves STALE until someone needs the object: a write that
   * must keep the older version, a read at an older sequence, an iterator
   * or a value compaction (these apply every stale row first).
   *
   * Why: on a busy node each dependent cache miss costs ~200 ns. An
   * overwrite in place used to load the version object only to store five
   * fields into it, and a read walked record number → version object →
   * value. Now both stop at this row, whose address is known from the
   * record number alone (loaded alongside the key's row in the index).
   */
  private newest = new Float64Array(4 * 1024);
  private readonly newestSource: Buffer[] = [];
  /** Records whose object went STALE since the last `refreshAllObjects`, each once. */
  private readonly staleIds: number[] = [];
  private readonly index = new KeyIndex();
  /** Records in key order, as of the last `sortedRecords()` call. */
  private sorted: KeyRecord[] = [];
  /** Records created since then, in insertion order. */
  private unsorted: KeyRecord[] = [];
  /** Number of the record last read or written, or -1 (records are never removed). */
  private lastId = -1;
  approximateSizeBytes = 0;
  /**
   * What approximateSizeBytes would be if no value had been overwritten in
   * place: the size `compactValues` brings it back to.
   */
  liveSizeBytes = 0;
  entryCount = 0;
  /** Highest sequence number inserted, 0 if empty. */
  largestSeq = 0;
  /** Number of the commit log holding this memtable's records (for deletion after flush). */
  logNumber: number;
  /**
   * When true, a newer write of a key replaces the key's newest version in
   * place instead of adding one (RocksDB's inplace_update_support): the
   * engine sets it while no snapshot or iterator is open, so nobody can read
   * an older version. An overwrite-heavy load (INCR, a hot key space) then
   * keeps one version object per key instead of one per write: less for the
   * garbage collector to trace and for a flush to skip. The log still has
   * every record; only the memtable forgets what no reader can ask for.
   */
  overwriteInPlace = false;

  constructor(logNumber: number) {
    this.logNumber = logNumber;
  }

  add(key: Buffer, seq: number, type: number, value: Buffer): void {
    this.addRange(key, 0, key.length, seq, type, value, 0, value.length);
  }

  /**
   * Adds the entry whose key is `keySource[keyStart, keyEnd)` and value
   * `valueSource[valueStart, valueEnd)`, without making views of them (the
   * commit log path: both are ranges of one log chunk, which the memtable
   * then keeps alive). A view of the key is made only for a new key.
   */
  addRange(
    keySource: Buffer,
    keyStart: number,
    keyEnd: number,
    seq: number,
    type: number,
    valueSource: Buffer,
    valueStart: number,
    valueEnd: number,
  ): void {
    // A read-modify-write (INCR) inserts the key it just read: skip the string and the hash lookup.
    let id = this.lastId;
    let isNew = false;
    if (id < 0 || !this.index.holds(id, keySource, keyStart, keyEnd)) {
      const hash = hashBytes(keySource, keyStart, keyEnd);
      id = this.index.find(keySource, keyStart, keyEnd, hash);
      if (id < 0) {
        id = this.index.add(keySource, keyStart, keyEnd, hash);
        isNew = true;
        const fresh = new KeyRecord(keySource.subarray(keyStart, keyEnd));
        this.records.push(fresh);
        this.unsorted.push(fresh);
        // Kept dense (record numbers are 0, 1, 2, …): a holey write far past the end would make it a dictionary.
        this.newestSource.push(valueSource);
        if (4 * id >= this.newest.length) {
          const grown = new Float64Array(2 * this.newest.length);
          grown.set(this.newest);
          this.newest = grown;
        }
        // The key is held three times: in the log chunk, in the index and (once sorted) as a string.
        this.approximateSizeBytes += 3 * (keyEnd - keyStart);
        this.liveSizeBytes += 3 * (keyEnd - keyStart);
      }
      this.lastId = id;
    }
    const rows = this.newest;
    const row = 4 * id;
    // Newer than everything here (the engine's case) is newer than the key's newest version.
    if (this.overwriteInPlace && !isNew && seq > this.largestSeq) {
      // The replaced value's bytes stay in their chunk until the memtable goes or compacts its values.
      this.liveSizeBytes += valueEnd - valueStart - (rows[row + 3]! - rows[row + 2]!);
      // Listed once until refreshAllObjects (LISTED: refreshed since): at most one entry per record.
      if (rows[row + 1]! >> 2 === CURRENT) this.staleIds.push(id);
      this.setNewest(id, seq, type, STALE, valueSource, valueStart, valueEnd);
      this.approximateSizeBytes += valueEnd - valueStart;
      this.largestSeq = seq;
      return;
    }
    const state = rows[row + 1]! >> 2;
    if (state === STALE) this.refreshObject(id);
    // A record still listed stays LISTED (refreshObject made a STALE one LISTED).
    const objectState = state === CURRENT ? CURRENT : LISTED;
    const newest = this.newestById[id];
    const record = this.records[id]!;
    const version = new MemtableVersion(record, seq, type, valueSource, valueStart, valueEnd);
    if (newest === undefined) {
      record.newest = version;
      record.oldest = version;
      this.newestById[id] = version;
      this.setNewest(id, seq, type, objectState, valueSource, valueStart, valueEnd);
    } else if (seq > this.largestSeq || seq > newest.seq) {
      // The common case: writes arrive in sequence order (checked first without
      // reading the newest version, a likely cache miss).
      version.older = newest;
      record.newest = version;
      this.newestById[id] = version;
      this.setNewest(id, seq, type, objectState, valueSource, valueStart, valueEnd);
    } else {
      // Out of order (tests, never the engine): insert before the first older version.
      let after: MemtableVersion = newest;
      while (after.older !== null && after.older.seq > seq) after = after.older;
      version.older = after.older;
      if (after.older === null) record.oldest = version;
      after.older = version;
    }
    this.approximateSizeBytes += valueEnd - valueStart + NODE_OVERHEAD_BYTES;
    this.liveSizeBytes += valueEnd - valueStart + NODE_OVERHEAD_BYTES;
    this.entryCount++;
    if (seq > this.largestSeq) this.largestSeq = seq;
  }

  /**
   * Newest entry for `key` with sequence <= `seq`, or null. The caller reads
   * `type` to tell a value from a tombstone.
   */
  get(key: Buffer, seq: number, hash = hashBytes(key, 0, key.length)): MemtableVersion | null {
    const id = this.index.find(key, 0, key.length, hash);
    if (id < 0) return null;
    this.lastId = id;
    if (this.newest[4 * id + 1]! >> 2 === STALE) this.refreshObject(id);
    let version: MemtableVersion | null = this.newestById[id]!;
    while (version !== null && version.seq > seq) version = version.older;
    return version;
  }

  /**
   * What a read at `seq` finds here for `key`: the value (a view into the
   * buffer it arrived in), null for a deletion, undefined when this
   * memtable has no version of the key at or below `seq`. A read of the
   * newest write (every read but a snapshot's) is answered from the newest
   * row without touching a version object.
   */
  lookup(key: Buffer, seq: number, hash: number): Buffer | null | undefined {
    const id = this.index.find(key, 0, key.length, hash);
    if (id < 0) return undefined;
    this.lastId = id;
    const rows = this.newest;
    const row = 4 * id;
    if (rows[row]! <= seq) {
      if ((rows[row + 1]! & 3) === TYPE_DELETION) return null;
      return this.newestSource[id]!.subarray(rows[row + 2], rows[row + 3]);
    }
    const version = this.get(key, seq, hash);
    if (version === null) return undefined;
    return version.type === TYPE_DELETION ? null : version.value;
  }

  /**
   * Copies every key and every version's value into chunks of the
   * memtable's own, so the log chunks they arrived in (which also hold every
   * value overwritten in place since) can be freed, and approximateSizeBytes
   * drops to liveSizeBytes. Under overwrites (INCR, a hot key space) this
   * takes the place of a flush: one pass of small copies instead of a
   * sort, a table and a compaction later (RocksDB's inplace_update_support
   * keeps its arena from growing the same way). Views handed out earlier
   * keep the old bytes, which are never rewritten; iterators read the
   * versions' new places, which hold the same bytes.
   */
  compactValues(): void {
    this.refreshAllObjects();
    let chunk = Buffer.allocUnsafe(COMPACTED_CHUNK_BYTES);
    let used = 0;
    const room = (length: number): void => {
      if (used + length <= chunk.length) return;
      chunk = Buffer.allocUnsafe(Math.max(COMPACTED_CHUNK_BYTES, length));
      used = 0;
    };
    for (const record of this.records) {
      const length = record.key.length;
      room(length);
      putBytes(chunk, used, record.key);
      record.key = chunk.subarray(used, used + length);
      used += length;
      for (let version = record.newest; version !== null; version = version.older) {
        room(version.valueLength);
        version.moveValue(chunk, used);
        used += version.valueLength;
      }
    }
    // The newest rows follow their versions to the new chunks.
    for (let id = 0; id < this.records.length; id++) {
      const newest = this.newestById[id]!;
      this.setNewest(
        id,
        newest.seq,
        newest.type,
        CURRENT,
        newest.valueSource,
        newest.valueStart,
        newest.valueEnd,
      );
    }
    this.approximateSizeBytes = this.liveSizeBytes;
  }

  iterator(): InternalIterator {
    this.refreshAllObjects();
    return new MemtableIterator(this.sortedRecords());
  }

  private setNewest(
    id: number,
    seq: number,
    type: number,
    state: number,
    source: Buffer,
    valueStart: number,
    valueEnd: number,
  ): void {
    const rows = this.newest;
    const row = 4 * id;
    rows[row] = seq;
    rows[row + 1] = type + 4 * state;
    rows[row + 2] = valueStart;
    rows[row + 3] = valueEnd;
    this.newestSource[id] = source;
  }

  /** Writes record `id`'s newest row into its (stale) newest version object. */
  private refreshObject(id: number): void {
    const rows = this.newest;
    const row = 4 * id;
    this.newestById[id]!.replace(
      rows[row]!,
      rows[row + 1]! & 3,
      this.newestSource[id]!,
      rows[row + 2]!,
      rows[row + 3]!,
    );
    // Still in staleIds: a read-modify-write (INCR: read, then overwrite) must not list it again.
    rows[row + 1] = (rows[row + 1]! & 3) + 4 * LISTED;
  }

  private refreshAllObjects(): void {
    const ids = this.staleIds;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const meta = 4 * id + 1;
      if (this.newest[meta]! >> 2 === STALE) this.refreshObject(id);
      this.newest[meta] = this.newest[meta]! & 3;
    }
    ids.length = 0;
  }

  /** The records in key order; merges the keys added since the last call. */
  private sortedRecords(): KeyRecord[] {
    const fresh = this.unsorted;
    if (fresh.length === 0) return this.sorted;
    this.unsorted = [];
    for (const record of fresh) record.text = record.key.toString("latin1");
    fresh.sort(byText);
    const old = this.sorted;
    if (old.length === 0) {
      this.sorted = fresh;
      return fresh;
    }
    // A new array: iterators created earlier keep the one they hold.
    const merged = new Array<KeyRecord>(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < fresh.length) {
      merged[k++] = old[i]!.text < fresh[j]!.text ? old[i++]! : fresh[j++]!;
    }
    while (i < old.length) merged[k++] = old[i++]!;
    while (j < fresh.length) merged[k++] = fresh[j++]!;
    this.sorted = merged;
    return merged;
  }
}

/** First index in `records` whose text is >= `text` (records.length when none). */
function lowerBound(records: KeyRecord[], text: string): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (records[mid]!.text < text) low = mid + 1;
    else high = mid;
  }
  return low;
}

class MemtableIterator implements InternalIterator {
  /** Index of the current record in `records`. */
  private index = 0;
  private version: MemtableVersion | null = null;
  constructor(private records: KeyRecord[]) {}

  valid(): boolean {
    return this.version !== null;
  }
  key(): Buffer {
    return this.version!.record.key;
  }
  seq(): number {
    return this.version!.seq;
  }
  type(): number {
    return this.version!.type;
  }
  value(): Buffer {
    return this.version!.value;
  }
  seekToFirst(): void {
    this.index = 0;
    this.version = this.records.length > 0 ? this.records[0]!.newest : null;
  }
  seekToLast(): void {
    this.index = this.records.length - 1;
    this.version = this.index >= 0 ? this.records[this.index]!.oldest : null;
  }
  /** First entry >= (key, seq): same key with sequence <= seq, or a later key. */
  seek(key: Buffer, seq: number): void {
    const text = key.toString("latin1");
    let index = lowerBound(this.records, text);
    let version: MemtableVersion | null = null;
    if (index < this.records.length) {
      const record = this.records[index]!;
      version = record.newest;
      if (record.text === text) {
        while (version !== null && version.seq > seq) version = version.older;
        if (version === null) {
          index++;
          version = index < this.records.length ? this.records[index]!.newest : null;
        }
      }
    }
    this.index = index;
    this.version = version;
  }
  /** Last entry <= (key, seq): same key with sequence >= seq, or an earlier key. */
  seekForPrev(key: Buffer, seq: number): void {
    const text = key.toString("latin1");
    let index = lowerBound(this.records, text);
    let version: MemtableVersion | null = null;
    if (index < this.records.length && this.records[index]!.text === text) {
      // The newest version with sequence >= seq: walk from the newest, remembering the last match.
      let candidate = this.records[index]!.newest;
      while (candidate !== null && candidate.seq >= seq) {
        version = candidate;
        candidate = candidate.older;
      }
    }
    if (version === null) {
      index--;
      version = index >= 0 ? this.records[index]!.oldest : null;
    }
    this.index = index;
    this.version = version;
  }
  next(): void {
    const older = this.version!.older;
    if (older !== null) {
      this.version = older;
      return;
    }
    this.index++;
    this.version = this.index < this.records.length ? this.records[this.index]!.newest : null;
  }
  prev(): void {
    const newer = this.version!.newer();
    if (newer !== null) {
      this.version = newer;
      return;
    }
    this.index--;
    this.version = this.index >= 0 ? this.records[this.index]!.oldest : null;
  }
  close(): void {
    this.version = null;
    this.records = [];
  }
}
