/**
 * MD5 of short ASCII strings in plain JavaScript (RFC 1321).
 *
 * Ketama hashes every key with MD5. node:crypto costs about a microsecond per
 * call for a 20-byte key, most of it crossing into C++ and allocating a
 * Buffer; the 64 rounds themselves take a fraction of that. Keys are usually
 * short ASCII, which fits one 64-byte block, so this computes that case
 * without allocation and leaves everything else (non-ASCII, > 55 bytes) to
 * node:crypto. The tests check it against node:crypto on random strings.
 */

/** Longest message that fits one block with its 0x80 terminator and 8-byte length. */
export const MD5_SINGLE_BLOCK_MAX_BYTES = 55;

// Per-round shift amounts and the sines table K[i] = floor(|sin(i + 1)| · 2^32).
const SHIFTS = Uint8Array.from([
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14,
  20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6,
  10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
]);
const SINES = Int32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0,
);
// Message word used by round i.
const WORD_INDEX = Uint8Array.from({ length: 64 }, (_, i) =>
  i < 16 ? i : i < 32 ? (5 * i + 1) % 16 : i < 48 ? (3 * i + 5) % 16 : (7 * i) % 16,
);

const block = new Int32Array(16);

/**
 * Writes the MD5 digest of `text` as four little-endian 32-bit words into
 * `out` (out[0] is digest bytes 0..3 read little-endian) and returns true; or
 * returns false, writing nothing, when `text` is not ASCII of at most 55 bytes.
 */
export function md5ShortAscii(text: string, out: Uint32Array): boolean {
  const length = text.length;
  if (length > MD5_SINGLE_BLOCK_MAX_BYTES) return false;
  block.fill(0);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return false;
    block[i >> 2]! |= code << ((i & 3) * 8);
  }
  block[length >> 2]! |= 0x80 << ((length & 3) * 8);
  block[14] = length * 8;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  for (let i = 0; i < 64; i++) {
    let f: number;
    if (i < 16) f = (b & c) | (~b & d);
    else if (i < 32) f = (d & b) | (~d & c);
    else if (i < 48) f = b ^ c ^ d;
    else f = c ^ (b | ~d);
    const sum = (a + f + SINES[i]! + block[WORD_INDEX[i]!]!) | 0;
    const shift = SHIFTS[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
  }
  out[0] = (a + 0x67452301) >>> 0;
  out[1] = (b + (0xefcdab89 | 0)) >>> 0;
  out[2] = (c + (0x98badcfe | 0)) >>> 0;
  out[3] = (d + 0x10325476) >>> 0;
  return true;
}
