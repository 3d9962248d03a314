/**
 * memcached's number parsing (util.c safe_strtoul / safe_strtol /
 * safe_strtoull): C strtol semantics (leading spaces and a sign allowed), the
 * whole token must be consumed, negative values refused for unsigned fields.
 */
const UINT64_MAX = 18446744073709551615n;

const SIGNED = /^\s*[+-]?\d+$/;

/** safe_strtoull over a value that may carry trailing spaces (memcached pads in-place decrements). */
export function parseUnsigned64(text: string): bigint | undefined {
  const trimmed = text.replace(/\s+$/, "");
  if (!SIGNED.test(trimmed)) return undefined;
  const value = BigInt(trimmed.trim());
  if (value < 0n) return undefined;
  if (value > UINT64_MAX) return undefined;
  return value;
}

/** safe_strtoul, truncated to 32 bits as memcached stores client flags. */
export function parseFlags(text: string): number | undefined {
  if (!SIGNED.test(text)) return undefined;
  const value = BigInt(text.trim());
  if (value < 0n || value > UINT64_MAX) return undefined;
  return Number(value & 0xffffffffn);
}

/**
 * safe_strtol as memcached 1.6 has it: strtol into a 64-bit long (ERANGE
 * refused), then stored into an int32_t, i.e. wrapped to 32 bits. So an
 * exptime of 4102444800 (year 2100) becomes negative: already expired.
 */
export function parseSigned32(text: string): number | undefined {
  if (!SIGNED.test(text)) return undefined;
  const value = BigInt(text.trim());
  if (value > 9223372036854775807n || value < -9223372036854775808n) return undefined;
  return Number(BigInt.asIntN(32, value));
}

export { UINT64_MAX };
