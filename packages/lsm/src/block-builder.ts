/**
 * Builds one block (data or index). PART OF THE FILE FORMAT:
 *
 *   entry*  | restart offset (4, LE)* | restart count (4, LE)
 *   entry = shared key bytes (varint32) | unshared key bytes (varint32)
 *         | value length (varint32) | unshared key bytes | value
 *
 * Keys are internal keys (user key + 8-byte trailer, see internal-key.ts),
 * prefix-compressed against the previous key; every `restartInterval` entries
 * the full key is stored (shared = 0) and its offset recorded as a restart
 * point, so a reader can binary-search the restart points. Entries are added
 * in strictly increasing internal-key order.
 */

import { putBytes, putVarint32, varintLength } from "./coding.js";
import { INTERNAL_KEY_TRAILER_BYTES } from "./constants.js";
import { writeTrailer } from "./internal-key.js";

export class BlockBuilder {
  private buffer: Buffer;
  private length = 0;
  private readonly restarts: number[] = [0];
  private counter = 0;
  private lastKey = Buffer.allocUnsafe(256);
  private lastKeyLength = 0;
  private scratch = Buffer.allocUnsafe(256);
  entryCount = 0;

  constructor(
    private readonly restartInterval: number,
    initialCapacityBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(initialCapacityBytes);
  }

  isEmpty(): boolean {
    return this.entryCount === 0;
  }

  /** Size of the block if finished now. */
  estimatedSizeBytes(): number {
    return this.length + this.restarts.length * 4 + 4;
  }

  add(userKey: Buffer, seq: number, type: number, value: Buffer): void {
    const keyLength = userKey.length + INTERNAL_KEY_TRAILER_BYTES;
    if (this.scratch.length < keyLength) this.scratch = Buffer.allocUnsafe(keyLength * 2);
    const key = this.scratch;
    const userLength = userKey.length;
    putBytes(key, 0, userKey);
    writeTrailer(key, userLength, seq, type);

    let shared = 0;
    if (this.counter < this.restartInterval) {
      const limit = Math.min(this.lastKeyLength, keyLength);
      while (shared < limit && this.lastKey[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.length);
      this.counter = 0;
    }
    const unshared = keyLength - shared;
    const needed =
      varintLength(shared) +
      varintLength(unshared) +
      varintLength(value.length) +
      unshared +
      value.length;
    this.ensure(needed);
    let p = this.length;
    p = putVarint32(this.buffer, p, shared);
    p = putVarint32(this.buffer, p, unshared);
    p = putVarint32(this.buffer, p, value.length);
    p = putBytes(this.buffer, p, key, shared, keyLength);
    p = putBytes(this.buffer, p, value);
    this.length = p;

    // lastKey already holds the shared prefix; copy the rest (all of it into a grown buffer).
    let copyFrom = shared;
    if (this.lastKey.length < keyLength) {
      this.lastKey = Buffer.allocUnsafe(keyLength * 2);
      copyFrom = 0;
    }
    const lastKey = this.lastKey;
    for (let i = copyFrom; i < keyLength; i++) lastKey[i] = key[i]!;
    this.lastKeyLength = keyLength;
    this.counter++;
    this.entryCount++;
  }

  /** Appends the restart array; returns a view valid until the next reset(). */
  finish(): Buffer {
    this.ensure(this.restarts.length * 4 + 4);
    let p = this.length;
    for (const restart of this.restarts) {
      this.buffer.writeUInt32LE(restart, p);
      p += 4;
    }
    this.buffer.writeUInt32LE(this.restarts.length, p);
    p += 4;
    this.length = p;
    return this.buffer.subarray(0, p);
  }

  reset(): void {
    this.length = 0;
    this.restarts.length = 1;
    this.restarts[0] = 0;
    this.counter = 0;
    this.lastKeyLength = 0;
    this.entryCount = 0;
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
