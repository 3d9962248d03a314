/**
 * Integers as bytes, both ways, without strings: the RESP parser reads
 * lengths and counts, INCR reads stored digits and writes new ones on every
 * call.
 */

/** Values parseSmallInteger accepts: at most 15 characters, so |n| < 10^15 (exact in a double). */
export const SMALL_INTEGER_MAX_CHARS = 15;

/**
 * Redis's string2ll: an optional '-', then digits with no leading zero (except
 * "0" itself), no '+', no spaces, within the signed 64-bit range. Returns a
 * number (exact up to 2^53, which covers every length we accept).
 */
export function parseRedisInteger(
  buffer: Uint8Array,
  start: number,
  end: number,
): number | undefined {
  const length = end - start;
  if (length <= 0 || length > 20) return undefined;
  let index = start;
  let negative = false;
  if (length === 1 && buffer[index] === 0x30) return 0;
  if (buffer[index] === 0x2d /* '-' */) {
    negative = true;
    index++;
    if (index === end) return undefined;
  }
  const first = buffer[index]!;
  if (first < 0x31 || first > 0x39) return undefined;
  let value = 0;
  for (; index < end; index++) {
    const c = buffer[index]!;
    if (c < 0x30 || c > 0x39) return undefined;
    value = value * 10 + (c - 0x30);
  }
  // 2^63 as a double: past it the value cannot be an int64.
  if (value >= 2 ** 63) return undefined;
  return negative ? -value : value;
}

/**
 * parseRedisInteger for source[start, end) of at most 15 characters: exact
 * in a double below 10^15 (INCR's fast path); undefined when longer or not a
 * canonical integer, so the caller can fall back to an exact 64-bit parse.
 */
export function parseSmallInteger(
  source: Uint8Array,
  start = 0,
  end = source.length,
): number | undefined {
  return end - start > SMALL_INTEGER_MAX_CHARS ? undefined : parseRedisInteger(source, start, end);
}

/** The decimal digits of integer `n` (|n| < 2^53) in a new buffer: String(n) without the string. */
export function smallIntegerBytes(n: number): Buffer {
  let magnitude = Math.abs(n);
  let length = n < 0 ? 2 : 1;
  for (let rest = magnitude; rest >= 10; rest = Math.floor(rest / 10)) length++;
  const out = Buffer.allocUnsafe(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = 0x30 + (magnitude % 10);
    magnitude = Math.floor(magnitude / 10);
  }
  if (n < 0) out[0] = 0x2d;
  return out;
}
