/**
 * A hash index from key bytes to values, for the memory engine's lookups.
 *
 * The engine's JavaScript Map (latin1 string → entry) stays the source of
 * truth for order (LRU, FIFO) and iteration (SCAN, KEYS); this index answers
 * "which entry is this key?" without making a key string: the key bytes are
 * hashed (murmur3's mix) into open-addressing slots in typed arrays, each
 * holding a record number next to the hash, and compared against the index's
 * own copy of the key in one arena. A Map lookup made a latin1 string per
 * call and walked string objects (~30 % of the node's CPU under a pipelined
 * MSET over 100 k keys); a probe here touches one slot and the arena.
 *
 * Deletion leaves a tombstone in the slot and the key's bytes in the arena;
 * both are reclaimed when the table is rebuilt (tombstones or dead arena
 * bytes past half).
 */
import { hashBytes } from "@scaleout/lsm";

/** Initial slots (a power of two). Live + deleted slots stay at most half of all. */
const INITIAL_SLOTS = 1024;
const INITIAL_ARENA_BYTES = 16 * 1024;
const EMPTY = 0;
const TOMBSTONE = -1;

export class ByteKeyIndex<V> {
  /** Two Int32 per slot: record number + 1 (EMPTY, TOMBSTONE), then the key's hash. */
  private slots = new Int32Array(2 * INITIAL_SLOTS);
  /** Per record: the value, or undefined for a free record number. */
  private values: (V | undefined)[] = [];
  private keyStarts: number[] = [];
  private keyLengths: number[] = [];
  private freeIds: number[] = [];
  private arena: Buffer;
  private arenaUsed = 0;
  private deadBytes = 0;
  private live = 0;
  private tombstones = 0;

  /** `initialArenaBytes`: tests start small to exercise growth and compaction. */
  constructor(private readonly initialArenaBytes = INITIAL_ARENA_BYTES) {
    this.arena = Buffer.allocUnsafe(initialArenaBytes);
  }

  get size(): number {
    return this.live;
  }

  get(key: Uint8Array): V | undefined {
    const slot = this.findSlot(key, hashBytes(key, 0, key.length));
    return slot < 0 ? undefined : this.values[this.slots[2 * slot]! - 1];
  }

  /** Adds `key` → `value`; the key must be absent (the engine checks first). */
  add(key: Uint8Array, value: V): void {
    if (2 * (this.live + this.tombstones + 1) > this.slots.length / 2) this.rebuild();
    const hash = hashBytes(key, 0, key.length);
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.values.length;
    if (this.arenaUsed + key.length > this.arena.length) this.growArena(key.length);
    this.arena.set(key, this.arenaUsed);
    this.keyStarts[id] = this.arenaUsed;
    this.keyLengths[id] = key.length;
    this.arenaUsed += key.length;
    this.values[id] = value;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = hash & mask;
    while (slots[2 * slot] !== EMPTY && slots[2 * slot] !== TOMBSTONE) slot = (slot + 1) & mask;
    if (slots[2 * slot] === TOMBSTONE) this.tombstones--;
    slots[2 * slot] = id + 1;
    slots[2 * slot + 1] = hash;
    this.live++;
  }

  /** Removes `key`; true when it was present. */
  delete(key: Uint8Array): boolean {
    const slot = this.findSlot(key, hashBytes(key, 0, key.length));
    if (slot < 0) return false;
    const id = this.slots[2 * slot]! - 1;
    this.slots[2 * slot] = TOMBSTONE;
    this.values[id] = undefined;
    this.freeIds.push(id);
    this.deadBytes += this.keyLengths[id]!;
    this.live--;
    this.tombstones++;
    return true;
  }

  clear(): void {
    this.slots = new Int32Array(2 * INITIAL_SLOTS);
    this.values = [];
    this.keyStarts = [];
    this.keyLengths = [];
    this.freeIds = [];
    this.arena = Buffer.allocUnsafe(this.initialArenaBytes);
    this.arenaUsed = 0;
    this.deadBytes = 0;
    this.live = 0;
    this.tombstones = 0;
  }

  /** The slot holding `key`, or -1. */
  private findSlot(key: Uint8Array, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[2 * slot]!;
      if (stored === EMPTY) return -1;
      if (stored !== TOMBSTONE && slots[2 * slot + 1] === hash && this.holds(stored - 1, key)) {
        return slot;
      }
    }
  }

  private holds(id: number, key: Uint8Array): boolean {
    const length = this.keyLengths[id]!;
    if (length !== key.length) return false;
    const start = this.keyStarts[id]!;
    const arena = this.arena;
    // From the end: keys sharing a prefix ("user:1234", "user:1235") differ there.
    for (let i = length - 1; i >= 0; i--) if (arena[start + i] !== key[i]) return false;
    return true;
  }

  private growArena(needed: number): void {
    // Dead bytes past half the arena: compact instead of growing.
    if (this.deadBytes > this.arenaUsed / 2) {
      this.compactArena(
        Math.max(this.arena.length, 2 * (this.arenaUsed - this.deadBytes + needed)),
      );
      if (this.arenaUsed + needed <= this.arena.length) return;
    }
    const grown = Buffer.allocUnsafe(Math.max(2 * this.arena.length, this.arenaUsed + needed));
    this.arena.copy(grown, 0, 0, this.arenaUsed);
    this.arena = grown;
  }

  /** Copies the live keys into a fresh arena of `size` bytes. */
  private compactArena(size: number): void {
    const arena = Buffer.allocUnsafe(size);
    let used = 0;
    for (let id = 0; id < this.values.length; id++) {
      if (this.values[id] === undefined) continue;
      const start = this.keyStarts[id]!;
      const length = this.keyLengths[id]!;
      this.arena.copy(arena, used, start, start + length);
      this.keyStarts[id] = used;
      used += length;
    }
    this.arena = arena;
    this.arenaUsed = used;
    this.deadBytes = 0;
  }

  /** New slots sized for the live keys (no tombstones); compacts the arena when half dead. */
  private rebuild(): void {
    let size = INITIAL_SLOTS;
    while (4 * (this.live + 1) > size) size *= 2;
    const slots = new Int32Array(2 * size);
    const mask = size - 1;
    const old = this.slots;
    for (let i = 0; i < old.length; i += 2) {
      const stored = old[i]!;
      if (stored === EMPTY || stored === TOMBSTONE) continue;
      let slot = old[i + 1]! & mask;
      while (slots[2 * slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[2 * slot] = stored;
      slots[2 * slot + 1] = old[i + 1]!;
    }
    this.slots = slots;
    this.tombstones = 0;
    if (this.deadBytes > this.arenaUsed / 2) this.compactArena(this.arena.length);
  }
}
