/**
 * A hash index from key bytes to dense record numbers (0, 1, 2, … in
 * insertion order), for the memtable. Keys are only ever added.
 *
 * Everything lives in typed arrays: open-addressing slots (linear probing, at
 * most half full) holding each record's number next to its key's hash, and a
 * copy of each key in one arena. A probe therefore touches one slot (one
 * cache line for the number and the hash) and, on a hash match, the arena —
 * never a JavaScript object. A Map keyed by a latin1
 * string needs a string per lookup and walks string objects; at 100 k keys
 * it cost ~640 ns per random lookup against ~280 ns here, and comparing
 * through each record's own Buffer view (object → backing store → bytes)
 * cost another ~300 ns of dependent cache misses per write.
 */

/** Initial slots (a power of two; doubles at half full). */
const INITIAL_SLOTS = 1024;
/** Initial arena bytes (doubles when full). */
const INITIAL_ARENA_BYTES = 16 * 1024;

/**
 * A 32-bit hash of `source[start, end)`: murmur3's block mix over 4 bytes at
 * a time and its finalizer, so the low bits (the slot) depend on every byte.
 */
export function hashBytes(source: Uint8Array, start: number, end: number): number {
  let h = end - start;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = source[i]! | (source[i + 1]! << 8) | (source[i + 2]! << 16) | (source[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let shift = 0; i < end; i++, shift += 8) k |= source[i]! << shift;
  k = Math.imul(k, 0xcc9e2d51);
  h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class KeyIndex {
  /** Two entries per slot: record number + 1 (0 = empty), then the key's hash. */
  private slots = new Int32Array(2 * INITIAL_SLOTS);
  /** Hash of each record's key (to rebuild the slots when they grow). */
  private hashes = new Int32Array(INITIAL_SLOTS / 2);
  /** Key i is arena[starts[i], starts[i + 1]). */
  private starts = new Int32Array(INITIAL_SLOTS / 2 + 1);
  private arena = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Bytes held (arena, slots and per-record arrays), for the memtable's size bound. */
  get sizeBytes(): number {
    return this.arena.length + 4 * (this.slots.length + this.hashes.length + this.starts.length);
  }

  /** The record number of key `source[start, end)` whose hash is `hash`, or -1. */
  find(source: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = slots[2 * slot]! - 1;
      if (id < 0) return -1;
      if (slots[2 * slot + 1] === hash && this.holds(id, source, start, end)) return id;
    }
  }

  /** Whether record `id`'s key is `source[start, end)`. */
  holds(id: number, source: Uint8Array, start: number, end: number): boolean {
    const from = this.starts[id]!;
    const length = end - start;
    if (this.starts[id + 1]! - from !== length) return false;
    const arena = this.arena;
    // From the end: keys sharing a prefix ("user:1234", "user:1235") differ there.
    for (let i = length - 1; i >= 0; i--) if (arena[from + i] !== source[start + i]) return false;
    return true;
  }

  /** Adds key `source[start, end)` (which must be absent) with its hash; returns its record number. */
  add(source: Uint8Array, start: number, end: number, hash: number): number {
    const id = this.count++;
    if (id >= this.hashes.length) {
      const capacity = this.hashes.length * 2;
      this.hashes = grow(this.hashes, capacity);
      this.starts = grow(this.starts, capacity + 1);
    }
    const from = this.starts[id]!;
    const length = end - start;
    if (from + length > this.arena.length) {
      const arena = Buffer.allocUnsafe(Math.max(this.arena.length * 2, from + length));
      this.arena.copy(arena, 0, 0, from);
      this.arena = arena;
    }
    this.arena.set(source.subarray(start, end), from);
    this.starts[id + 1] = from + length;
    this.hashes[id] = hash;
    if (4 * this.count > this.slots.length) {
      const slots = new Int32Array(this.slots.length * 2);
      for (let other = 0; other < this.count; other++) place(slots, other, this.hashes[other]!);
      this.slots = slots;
    } else {
      place(this.slots, id, hash);
    }
    return id;
  }
}

function place(slots: Int32Array, id: number, hash: number): void {
  const mask = (slots.length >> 1) - 1;
  let slot = hash & mask;
  while (slots[2 * slot] !== 0) slot = (slot + 1) & mask;
  slots[2 * slot] = id + 1;
  slots[2 * slot + 1] = hash;
}

function grow(array: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}
