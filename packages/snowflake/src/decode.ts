/**
 * Decoding ids back into their fields, and the strict parsing of ids and batch
 * counts that arrive as text (from a URL, a flag). Ids are bigints or decimal
 * strings throughout: a JS number holds only 53 bits and would silently round.
 */
import { MAX_BATCH_COUNT, MAX_ID_TEXT_LENGTH } from "./constants.js";
import { SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import { geometryOf, type Layout } from "./layout.js";

export interface DecodedId {
  /** The id itself, as a decimal string. */
  id: string;
  /** Unix time in ms of the id's timestamp field (the start of its time unit). */
  timestamp: number;
  /** The same instant as an ISO-8601 string. */
  iso: string;
  datacenter: number;
  machine: number;
  sequence: number;
}

/** The largest id plus one: ids keep the sign bit 0. */
export const ID_LIMIT = 1n << 63n;

export function decode(id: bigint | string, layout: Layout): DecodedId {
  const value = typeof id === "bigint" ? id : parseId(id);
  if (value < 0n || value >= ID_LIMIT) {
    throw new SnowflakeError(SnowflakeErrorCode.ID_INVALID, `id ${value} is outside 0..2^63-1`);
  }
  const g = geometryOf(layout);
  const field = (shift: number, max: number) => Number((value >> BigInt(shift)) & BigInt(max));
  const units = Number(value >> BigInt(g.timestampShift));
  const timestamp = layout.epochMs + units * layout.timeUnitMs;
  return {
    id: value.toString(),
    timestamp,
    iso: new Date(timestamp).toISOString(),
    datacenter: g.maxDatacenter === 0 ? 0 : field(g.datacenterShift, g.maxDatacenter),
    machine: field(g.machineShift, g.maxMachine),
    sequence: field(g.sequenceShift, g.maxSequence),
  };
}

/**
 * Parses an id given as text. Accepts decimal digits only (no sign, no
 * spaces, no hex, no exponent) in 0..2^63-1; the error says which rule failed.
 */
export function parseId(text: string): bigint {
  const invalid = (why: string) => new SnowflakeError(SnowflakeErrorCode.ID_INVALID, why);
  if (text.length === 0) throw invalid("id is empty; expected a decimal integer");
  if (text.length > MAX_ID_TEXT_LENGTH) {
    throw invalid(`id is ${text.length} characters long; an id has at most 19 digits`);
  }
  if (/^-\d+$/.test(text)) throw invalid(`id ${text} is negative; ids are 0..2^63-1`);
  if (!/^\d+$/.test(text)) throw invalid(`id "${text}" is not a decimal integer`);
  const value = BigInt(text);
  if (value >= ID_LIMIT) {
    throw invalid(`id ${text} is not below 2^63 (9223372036854775808); ids are 0..2^63-1`);
  }
  return value;
}

/** Parses a batch count given as text: a decimal integer in 1..limit. */
export function parseCount(text: string, limit: number = MAX_BATCH_COUNT): number {
  const invalid = (why: string) => new SnowflakeError(SnowflakeErrorCode.COUNT_INVALID, why);
  if (text.length === 0) throw invalid(`count is empty; expected an integer 1..${limit}`);
  if (text.length > 16)
    throw invalid(`count "${text.slice(0, 16)}…" is too long; expected 1..${limit}`);
  if (/^-\d+$/.test(text)) throw invalid(`count ${text} is negative; expected 1..${limit}`);
  if (!/^\d+$/.test(text)) throw invalid(`count "${text}" is not an integer; expected 1..${limit}`);
  const count = Number(text);
  if (count === 0) throw invalid(`count must be at least 1, got 0`);
  if (count > limit) throw invalid(`count ${count} is over the limit of ${limit}`);
  return count;
}
