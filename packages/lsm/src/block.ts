/**
 * Reading blocks (format in block-builder.ts). The block cache holds raw,
 * checksum-verified blocks. Point lookups (`seekInBlock`) search a raw block in
 * place, as LevelDB does: binary search over the restart points, then a scan
 * of at most one restart interval, with no allocation. Iterators decode a
 * whole block into parallel arrays (`parseBlock`): user keys, sequences,
 * types and values (values are views into the block). Structural errors are
 * reported as corruption with the file and the block's offset.
 */

import { decoded, getVarint32, putBytes } from "./coding.js";
import { INTERNAL_KEY_TRAILER_BYTES } from "./constants.js";
import { corruption } from "./errors.js";

export class ParsedBlock {
  constructor(
    readonly keys: Buffer[],
    readonly seqs: number[],
    readonly types: number[],
    readonly values: Buffer[],
  ) {}

  get count(): number {
    return this.keys.length;
  }

  /** Index of the first entry >= (key, seq), or `count` if none. */
  seek(key: Buffer, seq: number): number {
    const keys = this.keys;
    const seqs = this.seqs;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const c = Buffer.compare(keys[mid]!, key);
      if (c < 0 || (c === 0 && seqs[mid]! > seq)) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export function parseBlock(block: Buffer, file: string, blockOffset: number): ParsedBlock {
  const end = block.length;
  if (end < 4) throw corruption(file, blockOffset, "block shorter than its restart count");
  const restartCount = block.readUInt32LE(end - 4);
  const dataEnd = end - 4 - restartCount * 4;
  if (restartCount === 0 || dataEnd < 0) {
    throw corruption(file, blockOffset, `bad restart count ${restartCount}`);
  }
  const keys: Buffer[] = [];
  const seqs: number[] = [];
  const types: number[] = [];
  const values: Buffer[] = [];
  let current = Buffer.allocUnsafe(64);
  let currentLength = 0;
  let p = 0;
  while (p < dataEnd) {
    const entryOffset = p;
    p = getVarint32(block, p, dataEnd);
    const shared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, dataEnd);
    const unshared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, dataEnd);
    const valueLength = decoded.value;
    if (
      p < 0 ||
      shared > currentLength ||
      p + unshared + valueLength > dataEnd ||
      shared + unshared < INTERNAL_KEY_TRAILER_BYTES
    ) {
      throw corruption(file, blockOffset + entryOffset, "malformed block entry");
    }
    const keyLength = shared + unshared;
    if (current.length < keyLength) {
      const grown = Buffer.allocUnsafe(keyLength * 2);
      current.copy(grown, 0, 0, shared);
      current = grown;
    }
    putBytes(current, shared, block, p, p + unshared);
    currentLength = keyLength;
    p += unshared;
    const userLength = keyLength - INTERNAL_KEY_TRAILER_BYTES;
    const userKey = Buffer.allocUnsafe(userLength);
    putBytes(userKey, 0, current, 0, userLength);
    keys.push(userKey);
    types.push(current[userLength]!);
    const t = userLength + 1;
    seqs.push(
      current[t]! +
        current[t + 1]! * 0x100 +
        current[t + 2]! * 0x10000 +
        current[t + 3]! * 0x1000000 +
        current[t + 4]! * 0x100000000 +
        current[t + 5]! * 0x10000000000,
    );
    values.push(block.subarray(p, p + valueLength));
    p += valueLength;
  }
  return new ParsedBlock(keys, seqs, types, values);
}

/** Result of seekInBlock, reused across calls (the search is synchronous). */
export const blockHit = { type: 0, valueStart: 0, valueEnd: 0 };

let scratch = Buffer.allocUnsafe(256);

/**
 * Finds the first entry >= (key, seq) in a raw block. Returns true when that
 * entry has user key `key`, with its type and value range in `blockHit`.
 */
export function seekInBlock(
  block: Buffer,
  key: Buffer,
  seq: number,
  file: string,
  blockOffset: number,
): boolean {
  const end = block.length;
  const restartCount = block.readUInt32LE(end - 4);
  const restartsStart = end - 4 - restartCount * 4;
  if (restartCount === 0 || restartsStart < 0)
    throw corruption(file, blockOffset, `bad restart count ${restartCount}`);
  // Binary search: the last restart point whose key is < target.
  let low = 0;
  let high = restartCount - 1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    let p = block.readUInt32LE(restartsStart + mid * 4);
    p = getVarint32(block, p, restartsStart);
    const shared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, restartsStart);
    const unshared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, restartsStart);
    if (
      p < 0 ||
      shared !== 0 ||
      unshared < INTERNAL_KEY_TRAILER_BYTES ||
      p + unshared > restartsStart
    ) {
      throw corruption(file, blockOffset + mid * 4, "malformed restart entry");
    }
    if (compareInternalAt(block, p, unshared, key, seq) < 0) low = mid;
    else high = mid - 1;
  }
  // Scan forward from that restart point, rebuilding keys in the scratch buffer.
  let p = block.readUInt32LE(restartsStart + low * 4);
  let keyLength = 0;
  while (p < restartsStart) {
    const entryOffset = p;
    p = getVarint32(block, p, restartsStart);
    const shared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, restartsStart);
    const unshared = decoded.value;
    if (p >= 0) p = getVarint32(block, p, restartsStart);
    const valueLength = decoded.value;
    if (p < 0 || shared > keyLength || p + unshared + valueLength > restartsStart) {
      throw corruption(file, blockOffset + entryOffset, "malformed block entry");
    }
    keyLength = shared + unshared;
    if (keyLength < INTERNAL_KEY_TRAILER_BYTES)
      throw corruption(file, blockOffset + entryOffset, "key too short");
    if (scratch.length < keyLength) {
      const grown = Buffer.allocUnsafe(keyLength * 2);
      scratch.copy(grown, 0, 0, shared);
      scratch = grown;
    }
    for (let i = 0; i < unshared; i++) scratch[shared + i] = block[p + i]!;
    p += unshared;
    if (compareInternalAt(scratch, 0, keyLength, key, seq) >= 0) {
      const userLength = keyLength - INTERNAL_KEY_TRAILER_BYTES;
      if (userLength !== key.length || compareBytes(scratch, 0, key, userLength) !== 0)
        return false;
      blockHit.type = scratch[userLength]!;
      blockHit.valueStart = p;
      blockHit.valueEnd = p + valueLength;
      return true;
    }
    p += valueLength;
  }
  return false;
}

/** Compares the internal key stored at buffer[start, start+length) with (key, seq). */
function compareInternalAt(
  buffer: Buffer,
  start: number,
  length: number,
  key: Buffer,
  seq: number,
): number {
  const userLength = length - INTERNAL_KEY_TRAILER_BYTES;
  const limit = Math.min(userLength, key.length);
  const c = compareBytes(buffer, start, key, limit);
  if (c !== 0) return c;
  if (userLength !== key.length) return userLength < key.length ? -1 : 1;
  const entrySeq = buffer.readUIntLE(start + userLength + 1, 6);
  return entrySeq > seq ? -1 : entrySeq < seq ? 1 : 0;
}

/**
 * Bytewise comparison of `length` bytes. A JS loop: for the short keys of a
 * key-value store it beats the native Buffer.compare call, whose fixed cost
 * dominates below ~64 bytes.
 */
function compareBytes(a: Buffer, aStart: number, b: Buffer, length: number): number {
  if (length > 64) return a.compare(b, 0, length, aStart, aStart + length);
  for (let i = 0; i < length; i++) {
    const x = a[aStart + i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
