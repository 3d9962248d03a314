/**
 * Small integers as value bytes, both ways, without strings: INCR reads the
 * stored digits and writes new ones on every call.
 */

/** Values parseSmallInteger accepts: at most 15 characters, so |n| < 10^15 (exact in a double). */
export const SMALL_INTEGER_MAX_CHARS = 15;

/**
 * Redis's string2ll for source[start, end) of at most 15 characters, as a
 * double (exact below 10^15); undefined when longer or not a canonical
 * integer (no '+', no leading zeros, no spaces), so the caller can fall back
 * to an exact 64-bit parse.
 */
export function parseSmallInteger(
  source: Uint8Array,
  start = 0,
  end = source.length,
): number | undefined {
  const length = end - start;
  if (length === 0 || length > SMALL_INTEGER_MAX_CHARS) return undefined;
  let index = start;
  let negative = false;
  if (source[index] === 0x2d) {
    if (length === 1) return undefined;
    negative = true;
    index++;
  }
  const first = source[index]!;
  if (first === 0x30) return length === 1 ? 0 : undefined;
  if (first < 0x31 || first > 0x39) return undefined;
  let result = 0;
  for (; index < end; index++) {
    const c = source[index]!;
    if (c < 0x30 || c > 0x39) return undefined;
    result = result * 10 + (c - 0x30);
  }
  return negative ? -result : result;
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
