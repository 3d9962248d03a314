/**
 * Internal keys: every stored entry is (user key, sequence, type). Ordering is
 * user key ascending (bytewise, Buffer.compare), then sequence DESCENDING, so the
 * newest version of a key comes first and a read at snapshot S seeks to
 * (key, S) and takes the first entry it finds for that key.
 *
 * On disk (table blocks) an internal key is the user key followed by an
 * 8-byte trailer. PART OF THE FILE FORMAT:
 *
 *   user key bytes | type (1) | sequence (6, little-endian u48) | reserved (1, zero)
 */
import { INTERNAL_KEY_TRAILER_BYTES, type TYPE_DELETION, type TYPE_VALUE } from "./constants.js";

export type ValueType = typeof TYPE_DELETION | typeof TYPE_VALUE;

/**
 * Bytewise order of user keys. Short keys are compared in a JS loop: below
 * ~32 bytes the fixed cost of the native Buffer.compare call dominates, and
 * the memtable compares ~20 times per insert.
 */
export function compareKeys(a: Buffer, b: Buffer): number {
  const aLength = a.length;
  const bLength = b.length;
  if (aLength > 32 && bLength > 32) return Buffer.compare(a, b);
  const limit = Math.min(aLength, bLength);
  for (let i = 0; i < limit; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return aLength === bLength ? 0 : aLength < bLength ? -1 : 1;
}

/** Compares two internal keys given as parts. */
export function compareInternal(aKey: Buffer, aSeq: number, bKey: Buffer, bSeq: number): number {
  const c = compareKeys(aKey, bKey);
  if (c !== 0) return c;
  return aSeq > bSeq ? -1 : aSeq < bSeq ? 1 : 0;
}

/** Encodes an internal key (for index blocks and the manifest). */
export function encodeInternalKey(userKey: Buffer, seq: number, type: number): Buffer {
  const out = Buffer.allocUnsafe(userKey.length + INTERNAL_KEY_TRAILER_BYTES);
  userKey.copy(out, 0);
  writeTrailer(out, userKey.length, seq, type);
  return out;
}

export function writeTrailer(buffer: Buffer, offset: number, seq: number, type: number): void {
  buffer[offset] = type;
  buffer.writeUIntLE(seq, offset + 1, 6);
  buffer[offset + 7] = 0;
}

export function trailerSeq(buffer: Buffer, trailerOffset: number): number {
  return buffer.readUIntLE(trailerOffset + 1, 6);
}
