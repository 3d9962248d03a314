/**
 * How the lsm engine stores one entry: the value with its metadata in front,
 * so a TTL survives a restart together with the value it belongs to.
 *
 *   offset  size  field
 *   0       1     format version (ENTRY_FORMAT_VERSION)
 *   1       4     memcached flags, uint32 big-endian
 *   5       8     expiresAtMs, float64 big-endian (0 = never; integral ms)
 *   13      8     CAS, float64 big-endian (integral, < 2^53)
 *   21      n     the value bytes
 *
 * WARNING: this layout is part of the on-disk format. Change it only with a
 * new version byte and a decoder for the old one.
 */
import { parseSmallInteger } from "../integer-bytes.js";
import type { StoredEntry } from "./store.js";

export const ENTRY_FORMAT_VERSION = 1;
export const ENTRY_HEADER_BYTES = 21;

/**
 * The header of `entry` alone, in a scratch buffer shared by every call:
 * valid until the next call (the lsm engine copies it into its log record at
 * once, in front of the value).
 */
export function encodeEntryHeader(entry: StoredEntry): Buffer {
  return entryHeader(entry.flags, entry.expiresAtMs, entry.cas);
}

/** encodeEntryHeader from the fields themselves (no entry object); the same shared buffer. */
export function entryHeader(flags: number, expiresAtMs: number, cas: number): Buffer {
  writeEntryHeader(scratchHeader, 0, flags, expiresAtMs, cas);
  return scratchHeader;
}
const scratchHeader = Buffer.alloc(ENTRY_HEADER_BYTES);

export function encodeEntry(entry: StoredEntry): Uint8Array {
  const out = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + entry.value.length);
  writeEntryHeader(out, 0, entry.flags, entry.expiresAtMs, entry.cas);
  out.set(entry.value, ENTRY_HEADER_BYTES);
  return out;
}

/**
 * Writes an entry header at `offset` of `out` (an MSET writes all of its
 * headers into one buffer this way: one allocation, no entry objects).
 */
export function writeEntryHeader(
  out: Buffer,
  offset: number,
  flags: number,
  expiresAtMs: number,
  cas: number,
): void {
  out[offset] = ENTRY_FORMAT_VERSION;
  out.writeUInt32BE(flags >>> 0, offset + 1);
  out.writeDoubleBE(expiresAtMs, offset + 5);
  out.writeDoubleBE(cas, offset + 13);
}

export function decodeEntry(raw: Uint8Array): StoredEntry {
  if (raw.length < ENTRY_HEADER_BYTES || raw[0] !== ENTRY_FORMAT_VERSION) {
    throw new Error(`corrupt kv entry: ${raw.length} bytes, format byte ${raw[0]}`);
  }
  const view = raw instanceof Buffer ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  return new DecodedEntry(view, view.readUInt32BE(1), view.readDoubleBE(5), view.readDoubleBE(13));
}

/**
 * An entry as stored: the header's fields, and the value viewed only when
 * asked for — INCR reads `integer` straight from the stored digits, and a
 * view costs ~100 ns to make.
 */
class DecodedEntry implements StoredEntry {
  private view: Buffer | undefined;
  constructor(
    private readonly raw: Buffer,
    readonly flags: number,
    readonly expiresAtMs: number,
    readonly cas: number,
  ) {}

  get value(): Buffer {
    if (this.view === undefined) this.view = this.raw.subarray(ENTRY_HEADER_BYTES);
    return this.view;
  }

  /** The value as a number when it spells a small integer (see parseSmallInteger). */
  get integer(): number | undefined {
    return parseSmallInteger(this.raw, ENTRY_HEADER_BYTES, this.raw.length);
  }
}

/** Reads only the expiry (the active expiry scan does not need the value). */
export function decodeExpiry(raw: Uint8Array): number {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).readDoubleBE(5);
}
