/**
 * Decodes a block (format in block-builder.ts) into parallel arrays, the form
 * kept in the block cache: user keys, sequences, types and values (values are
 * views into the block). Decoding once per cache fill makes every later lookup
 * a binary search over the arrays. Structural errors are reported as
 * corruption with the file and the block's offset.
 */

import { decoded, getVarint32 } from "./coding.js";
import { INTERNAL_KEY_TRAILER_BYTES } from "./constants.js";
import { corruption } from "./errors.js";

/** Per-entry bookkeeping charged to the block cache on top of the block's bytes. */
const ENTRY_OVERHEAD_BYTES = 48;

export class ParsedBlock {
  constructor(
    readonly keys: Buffer[],
    readonly seqs: number[],
    readonly types: number[],
    readonly values: Buffer[],
    readonly chargeBytes: number,
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
    block.copy(current, shared, p, p + unshared);
    currentLength = keyLength;
    p += unshared;
    const userLength = keyLength - INTERNAL_KEY_TRAILER_BYTES;
    const userKey = Buffer.allocUnsafe(userLength);
    current.copy(userKey, 0, 0, userLength);
    keys.push(userKey);
    types.push(current[userLength]!);
    seqs.push(current.readUIntLE(userLength + 1, 6));
    values.push(block.subarray(p, p + valueLength));
    p += valueLength;
  }
  return new ParsedBlock(
    keys,
    seqs,
    types,
    values,
    block.length + keys.length * ENTRY_OVERHEAD_BYTES,
  );
}
