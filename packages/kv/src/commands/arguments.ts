/**
 * Argument parsing with Redis's exact acceptance rules (util.c string2ll /
 * string2ld): what Redis rejects, we reject, so error replies match.
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** string2ll over the whole argument: no '+', no spaces, no leading zeros, within int64. */
export function parseInt64(arg: Uint8Array): bigint | undefined {
  const length = arg.length;
  if (length === 0 || length > 20) return undefined;
  if (length === 1 && arg[0] === 0x30) return 0n;
  let index = 0;
  if (arg[0] === 0x2d) {
    index = 1;
    if (length === 1) return undefined;
  }
  const first = arg[index]!;
  if (first < 0x31 || first > 0x39) return undefined;
  for (let i = index + 1; i < length; i++) {
    const c = arg[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const text = Buffer.from(arg.buffer, arg.byteOffset, length).toString("latin1");
  const value = BigInt(text);
  if (value > INT64_MAX || value < INT64_MIN) return undefined;
  return value;
}

/** Like parseInt64 but as a JS number; undefined outside the safe integer range. */
export function parseSafeInteger(arg: Uint8Array): number | undefined {
  const value = parseInt64(arg);
  if (value === undefined) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    return undefined;
  return Number(value);
}

export function isInt64(value: bigint): boolean {
  return value <= INT64_MAX && value >= INT64_MIN;
}

export { INT64_MAX, INT64_MIN };

const FLOAT_PATTERN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY_PATTERN = /^[+-]?inf(?:inity)?$/i;

/**
 * string2ld: a decimal float (or inf/infinity), no surrounding spaces, not NaN.
 * Redis parses into a long double; we parse into a double.
 */
export function parseFloatArgument(arg: Uint8Array): number | undefined {
  if (arg.length === 0 || arg.length > 5 * 1024) return undefined;
  const text = Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString("latin1");
  if (INFINITY_PATTERN.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (!FLOAT_PATTERN.test(text)) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * Formats an INCRBYFLOAT result as Redis's ld2string(LD_STR_HUMAN) does:
 * fixed notation, no exponent, trailing zeros removed. Redis computes in
 * long double and prints 17 decimals; we compute in double and keep 15
 * significant digits, which prints the same for everyday increments
 * (0.1 + 0.2 gives "0.3" in both). Beyond 2^53 the low digits can differ
 * from Redis's (a double has 53 bits of mantissa, a long double 64).
 */
export function formatHumanFloat(value: number): string {
  if (value === 0) return "0";
  // Integral results print exactly (Redis prints -2^63 as -9223372036854775808, not -9.2e18).
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 64) return BigInt(value).toString();
  let text = value.toPrecision(15);
  if (text.includes("e")) text = exponentToFixed(text);
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text === "-0" ? "0" : text;
}

function exponentToFixed(text: string): string {
  const [mantissa, exponentText] = text.split("e") as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const pointIndex =
    (mantissa.replace("-", "").indexOf(".") === -1
      ? digits.length
      : mantissa.replace("-", "").indexOf(".")) + exponent;
  let result: string;
  if (pointIndex <= 0) result = `0.${"0".repeat(-pointIndex)}${digits}`;
  else if (pointIndex >= digits.length) result = digits + "0".repeat(pointIndex - digits.length);
  else result = `${digits.slice(0, pointIndex)}.${digits.slice(pointIndex)}`;
  return negative ? `-${result}` : result;
}

/** Case-insensitive comparison of an argument with an ASCII word (given in upper case). */
export function isWord(arg: Uint8Array, upperWord: string): boolean {
  if (arg.length !== upperWord.length) return false;
  for (let i = 0; i < arg.length; i++) {
    let c = arg[i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== upperWord.charCodeAt(i)) return false;
  }
  return true;
}

export function lowerName(arg: Uint8Array): string {
  return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString("latin1").toLowerCase();
}

export function text(arg: Uint8Array): string {
  return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString("latin1");
}
