/**
 * String commands (Redis t_string.c): GET, SET and its options, the counters,
 * ranges and multi-key variants. Each handler parses and validates every
 * argument first and replies with the error early; it mutates only after all
 * checks passed. The scheduler holds the command's keys, so a read followed
 * by a write here is atomic.
 */

import { parseSmallInteger, smallIntegerBytes } from "../integer-bytes.js";
import { argsOf, type RangedCommand } from "../resp/parser.js";
import {
  array,
  bulk,
  bulkOrNull,
  EMPTY_ARRAY,
  integer,
  NULL,
  OK,
  ONE,
  type Reply,
  ZERO,
} from "../resp/reply.js";
import { PLAIN_WRITE, type PutItem, type StoredEntry } from "../storage/store.js";
import {
  formatHumanFloat,
  INT64_MAX,
  INT64_MIN,
  isInt64,
  isWord,
  parseFloatArgument,
  parseInt64,
} from "./arguments.js";
import {
  DECREMENT_OVERFLOW,
  invalidExpireTime,
  NAN_OR_INFINITY,
  NOT_FLOAT,
  NOT_INTEGER,
  OFFSET_OUT_OF_RANGE,
  OVERFLOW,
  STRING_TOO_LONG,
  SYNTAX_ERROR,
  wrongArity,
} from "./replies.js";
import type { CommandContext } from "./types.js";

const EMPTY = new Uint8Array(0);

/** A read that counts keyspace hits and misses, as Redis's lookupKeyRead does. */
export async function lookupRead(
  context: CommandContext,
  key: Uint8Array,
): Promise<StoredEntry | undefined> {
  const entry = await context.store.get(key);
  if (entry === undefined) context.services.stats.keyspaceMisses++;
  else context.services.stats.keyspaceHits++;
  return entry;
}

type ExpiryChoice =
  | { kind: "none" }
  | { kind: "keep" }
  | { kind: "persist" }
  | { kind: "at"; expiresAtMs: number };

type SetOptions = {
  nx: boolean;
  xx: boolean;
  get: boolean;
  /** keep / persist / none; "at" is resolved from `expireArg` by resolveExpiry. */
  expiry: ExpiryChoice;
  expireArg: Uint8Array | undefined;
  unit: bigint;
  relative: boolean;
};

const UNIT_SECONDS = 1000n;
const UNIT_MS = 1n;

/**
 * getExpireMillisecondsOrReply: the argument must be an integer > 0; seconds
 * are scaled; relative times are added to now; anything non-positive or
 * overflowing is "invalid expire time in '<cmd>' command".
 */
function expiryFrom(
  context: CommandContext,
  raw: Uint8Array,
  unit: bigint,
  relative: boolean,
): { expiresAtMs: number } | Reply {
  const value = parseInt64(raw);
  if (value === undefined) return NOT_INTEGER;
  if (value <= 0n || (unit === UNIT_SECONDS && value > INT64_MAX / 1000n))
    return invalidExpireTime(context.spec.name);
  let ms = value * unit;
  if (relative) ms += BigInt(context.nowMs);
  if (ms <= 0n || ms > INT64_MAX) return invalidExpireTime(context.spec.name);
  // Beyond 2^53 ms (285,000 years) a JS number loses precision; clamp, the key never expires in practice.
  return {
    expiresAtMs: ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ms),
  };
}

/** parseExtendedStringArgumentsOrReply for SET (command "set") and GETEX (command "getex"). */
function parseExtendedOptions(
  args: Buffer[],
  from: number,
  command: "set" | "getex",
): SetOptions | Reply {
  const options: SetOptions = {
    nx: false,
    xx: false,
    get: false,
    expiry: { kind: "none" },
    expireArg: undefined,
    unit: UNIT_MS,
    relative: false,
  };
  let ex = false;
  let px = false;
  let exat = false;
  let pxat = false;
  let keepTtl = false;
  let persist = false;
  let expireArg: Uint8Array | undefined;
  for (let j = from; j < args.length; j++) {
    const opt = args[j]!;
    const next = args[j + 1];
    if (command === "set" && isWord(opt, "NX") && !options.xx) {
      options.nx = true;
    } else if (command === "set" && isWord(opt, "XX") && !options.nx) {
      options.xx = true;
    } else if (command === "set" && isWord(opt, "GET")) {
      options.get = true;
    } else if (
      command === "set" &&
      isWord(opt, "KEEPTTL") &&
      !persist &&
      !ex &&
      !exat &&
      !px &&
      !pxat
    ) {
      keepTtl = true;
    } else if (
      command === "getex" &&
      isWord(opt, "PERSIST") &&
      !ex &&
      !exat &&
      !px &&
      !pxat &&
      !keepTtl
    ) {
      persist = true;
    } else if (
      isWord(opt, "EX") &&
      !keepTtl &&
      !persist &&
      !exat &&
      !px &&
      !pxat &&
      next !== undefined
    ) {
      ex = true;
      expireArg = next;
      j++;
    } else if (
      isWord(opt, "PX") &&
      !keepTtl &&
      !persist &&
      !ex &&
      !exat &&
      !pxat &&
      next !== undefined
    ) {
      px = true;
      expireArg = next;
      j++;
    } else if (
      isWord(opt, "EXAT") &&
      !keepTtl &&
      !persist &&
      !ex &&
      !px &&
      !pxat &&
      next !== undefined
    ) {
      exat = true;
      expireArg = next;
      j++;
    } else if (
      isWord(opt, "PXAT") &&
      !keepTtl &&
      !persist &&
      !ex &&
      !exat &&
      !px &&
      next !== undefined
    ) {
      pxat = true;
      expireArg = next;
      j++;
    } else {
      return SYNTAX_ERROR;
    }
  }
  if (expireArg !== undefined) {
    options.expireArg = expireArg;
    options.unit = ex || exat ? UNIT_SECONDS : UNIT_MS;
    options.relative = ex || px;
  } else if (keepTtl) {
    options.expiry = { kind: "keep" };
  } else if (persist) {
    options.expiry = { kind: "persist" };
  }
  return options;
}

function isReply(value: SetOptions | Reply): value is Reply {
  return "kind" in value;
}

/** Turns the EX/PX/EXAT/PXAT argument into an absolute expiry, or the error Redis replies. */
function resolveExpiry(context: CommandContext, options: SetOptions): Reply | undefined {
  if (options.expireArg === undefined) return undefined;
  const parsed = expiryFrom(context, options.expireArg, options.unit, options.relative);
  if ("kind" in parsed) return parsed;
  options.expiry = { kind: "at", expiresAtMs: parsed.expiresAtMs };
  return undefined;
}

/**
 * Applies `next` to a value that may or may not be a promise, staying
 * synchronous when it is not. The hot commands use it so that, on the memory
 * engine, they answer without allocating a single promise.
 */
function andThen<T, R>(
  value: T | Promise<T>,
  next: (resolved: T) => R | Promise<R>,
): R | Promise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

function countLookup(
  context: CommandContext,
  entry: StoredEntry | undefined,
): StoredEntry | undefined {
  if (entry === undefined) context.services.stats.keyspaceMisses++;
  else context.services.stats.keyspaceHits++;
  return entry;
}

export function getCommand(context: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  return andThen(context.store.get(args[1]!), (entry) =>
    bulkOrNull(countLookup(context, entry)?.value),
  );
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] */
export function setCommand(context: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  if (args.length === 3) {
    // Plain SET: no options, no read.
    return andThen(context.store.put(args[1]!, args[2]!, { expiresAtMs: 0, flags: 0 }), () => OK);
  }
  return setWithOptions(context, args);
}

async function setWithOptions(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const options = parseExtendedOptions(args, 3, "set");
  if (isReply(options)) return options;
  const invalid = resolveExpiry(context, options);
  if (invalid !== undefined) return invalid;
  const key = args[1]!;
  const store = context.store;
  const expiry = options.expiry;
  // A SET without NX, XX, GET or KEEPTTL needs no read.
  const needsRead = options.nx || options.xx || options.get || expiry.kind === "keep";
  const existing = needsRead ? await store.get(key) : undefined;
  let reply: Reply = OK;
  if (options.get) {
    reply = bulkOrNull(existing?.value);
    if (existing === undefined) context.services.stats.keyspaceMisses++;
    else context.services.stats.keyspaceHits++;
  }
  if ((options.nx && existing !== undefined) || (options.xx && existing === undefined)) {
    return options.get ? reply : NULL;
  }
  const expiresAtMs =
    expiry.kind === "at"
      ? expiry.expiresAtMs
      : expiry.kind === "keep"
        ? (existing?.expiresAtMs ?? 0)
        : 0;
  await store.put(key, args[2]!, { expiresAtMs, flags: 0 });
  return reply;
}

export async function setnxCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const existing = await context.store.get(args[1]!);
  if (existing !== undefined) return ZERO;
  await context.store.put(args[1]!, args[2]!, { expiresAtMs: 0, flags: 0 });
  return ONE;
}

/** SETEX key seconds value / PSETEX key ms value. */
export function setexCommand(unit: "seconds" | "ms") {
  return async (context: CommandContext, args: Buffer[]): Promise<Reply> => {
    const parsed = expiryFrom(context, args[2]!, unit === "seconds" ? UNIT_SECONDS : UNIT_MS, true);
    if ("kind" in parsed) return parsed;
    await context.store.put(args[1]!, args[3]!, { expiresAtMs: parsed.expiresAtMs, flags: 0 });
    return OK;
  };
}

export async function getsetCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const existing = await lookupRead(context, args[1]!);
  await context.store.put(args[1]!, args[2]!, { expiresAtMs: 0, flags: 0 });
  return bulkOrNull(existing?.value);
}

export async function getdelCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const existing = await lookupRead(context, args[1]!);
  if (existing === undefined) return NULL;
  await context.store.delete(args[1]!);
  return bulk(existing.value);
}

/** GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] */
export async function getexCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const options = parseExtendedOptions(args, 2, "getex");
  if (isReply(options)) return options;
  const key = args[1]!;
  const existing = await lookupRead(context, key);
  if (existing === undefined) return NULL;
  // Redis validates the expiry only once the key is known to exist.
  const invalid = resolveExpiry(context, options);
  if (invalid !== undefined) return invalid;
  const expiry = options.expiry;
  if (expiry.kind === "at") {
    if (expiry.expiresAtMs <= context.nowMs) {
      await context.store.delete(key);
    } else {
      await context.store.put(key, existing.value, {
        expiresAtMs: expiry.expiresAtMs,
        flags: existing.flags,
      });
    }
  } else if (expiry.kind === "persist" && existing.expiresAtMs !== 0) {
    await context.store.put(key, existing.value, { expiresAtMs: 0, flags: existing.flags });
  }
  return bulk(existing.value);
}

export async function mgetCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const replies: Reply[] = [];
  for (let i = 1; i < args.length; i++) {
    const entry = await lookupRead(context, args[i]!);
    replies.push(bulkOrNull(entry?.value));
  }
  return array(replies);
}

/** key/value pairs of MSET and MSETNX; a repeated key keeps its last value, as in Redis. */
function pairs(args: Buffer[]): PutItem[] {
  const items: PutItem[] = [];
  for (let i = 1; i < args.length; i += 2) {
    items.push({ key: args[i]!, value: args[i + 1]!, options: PLAIN_WRITE });
  }
  return items;
}

export function msetCommand(context: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  if (args.length % 2 === 0) return wrongArity(context.spec.name);
  return andThen(context.store.putMany(pairs(args)), () => OK);
}

/** MSET run from the request's argument ranges: no view per key and value (see RangedHandler). */
export function msetRanged(
  context: CommandContext,
  command: RangedCommand,
): Reply | Promise<Reply> {
  if (command.count % 2 === 0) return wrongArity(context.spec.name);
  const store = context.store;
  if (store.putPairs === undefined) return msetCommand(context, argsOf(command));
  return andThen(store.putPairs(command.source, command.offsets, 1, command.count), () => OK);
}

export async function msetnxCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  if (args.length % 2 === 0) return wrongArity(context.spec.name);
  for (let i = 1; i < args.length; i += 2) {
    if ((await context.store.get(args[i]!)) !== undefined) return ZERO;
  }
  await context.store.putMany(pairs(args));
  return ONE;
}

export async function appendCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const key = args[1]!;
  const suffix = args[2]!;
  const existing = await context.store.get(key);
  if (existing === undefined) {
    await context.store.put(key, suffix, { expiresAtMs: 0, flags: 0 });
    return integer(suffix.length);
  }
  const length = existing.value.length + suffix.length;
  if (length > context.services.maxBulkBytes) return STRING_TOO_LONG;
  const combined = Buffer.concat([existing.value, suffix]);
  await context.store.put(key, combined, {
    expiresAtMs: existing.expiresAtMs,
    flags: existing.flags,
  });
  return integer(length);
}

export async function strlenCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const entry = await lookupRead(context, args[1]!);
  return integer(entry?.value.length ?? 0);
}

/** GETRANGE key start end, with Redis 7.0's index clamping. */
export async function getrangeCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const startArg = parseInt64(args[2]!);
  const endArg = parseInt64(args[3]!);
  if (startArg === undefined || endArg === undefined) return NOT_INTEGER;
  const entry = await lookupRead(context, args[1]!);
  const value = entry?.value ?? EMPTY;
  const length = BigInt(value.length);
  let start = startArg;
  let end = endArg;
  if (start < 0n && end < 0n && start > end) return bulk(EMPTY);
  if (start < 0n) start += length;
  if (end < 0n) end += length;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= length) end = length - 1n;
  if (start > end || length === 0n) return bulk(EMPTY);
  return bulk(value.subarray(Number(start), Number(end) + 1));
}

export async function setrangeCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const offsetArg = parseInt64(args[2]!);
  if (offsetArg === undefined) return NOT_INTEGER;
  if (offsetArg < 0n) return OFFSET_OUT_OF_RANGE;
  const patch = args[3]!;
  const key = args[1]!;
  const existing = await context.store.get(key);
  if (existing === undefined) {
    if (patch.length === 0) return ZERO;
  } else if (patch.length === 0) {
    return integer(existing.value.length);
  }
  if (offsetArg + BigInt(patch.length) > BigInt(context.services.maxBulkBytes))
    return STRING_TOO_LONG;
  const offset = Number(offsetArg);
  const old = existing?.value ?? EMPTY;
  const length = Math.max(old.length, offset + patch.length);
  const value = Buffer.alloc(length);
  value.set(old, 0);
  value.set(patch, offset);
  await context.store.put(key, value, {
    expiresAtMs: existing?.expiresAtMs ?? 0,
    flags: existing?.flags ?? 0,
  });
  return integer(length);
}

/** Deltas the double fast path takes: |stored| < 10^15 plus this stays exact (< 2^53). */
const SMALL_DELTA_MAX = 1_000_000_000n;
/** Stored values the double fast path takes (what parseSmallInteger accepts: at most 15 digits). */
const SMALL_VALUE_LIMIT = 1e15;

/**
 * INCR and friends. `smallDelta` is `delta` as a number when it is small
 * (|delta| <= SMALL_DELTA_MAX), else undefined: the common case then adds in
 * doubles, and reads the stored number (StoredEntry.integer) instead of
 * parsing the value's digits when the engine kept it.
 */
function incrementBy(
  context: CommandContext,
  key: Uint8Array,
  delta: bigint,
  smallDelta: number | undefined,
): Reply | Promise<Reply> {
  const store = context.store;
  if (smallDelta !== undefined && store.incrementSmall !== undefined) {
    // One engine call instead of a read, an entry object and a write.
    const next = store.incrementSmall(key, smallDelta);
    if (next !== undefined) return integer(next);
  }
  return andThen(store.get(key), (existing) => {
    const small =
      existing === undefined ? 0 : (existing.integer ?? parseSmallInteger(existing.value));
    if (small !== undefined && smallDelta !== undefined && Math.abs(small) < SMALL_VALUE_LIMIT) {
      const next = small + smallDelta;
      const stored = context.store.put(key, smallIntegerBytes(next), {
        expiresAtMs: existing?.expiresAtMs ?? 0,
        flags: existing?.flags ?? 0,
        integer: next,
      });
      const reply = integer(next);
      return stored instanceof Promise ? stored.then(() => reply) : reply;
    }
    let current = 0n;
    if (existing !== undefined) {
      const parsed = parseInt64(existing.value);
      if (parsed === undefined) return NOT_INTEGER;
      current = parsed;
    }
    const next = current + delta;
    if (!isInt64(next)) return OVERFLOW;
    const stored = context.store.put(key, Buffer.from(next.toString()), {
      expiresAtMs: existing?.expiresAtMs ?? 0,
      flags: existing?.flags ?? 0,
    });
    const reply = integer(
      next >= -9007199254740991n && next <= 9007199254740991n ? Number(next) : next,
    );
    return andThen(stored, () => reply);
  });
}

export function incrCommand(sign: 1n | -1n) {
  const smallDelta = Number(sign);
  return (context: CommandContext, args: Buffer[]): Reply | Promise<Reply> =>
    incrementBy(context, args[1]!, sign, smallDelta);
}

export function incrbyCommand(sign: 1n | -1n) {
  return (context: CommandContext, args: Buffer[]): Reply | Promise<Reply> => {
    const delta = parseInt64(args[2]!);
    if (delta === undefined) return NOT_INTEGER;
    if (sign === -1n && delta === INT64_MIN) return DECREMENT_OVERFLOW;
    const signed = delta * sign;
    const small =
      signed >= -SMALL_DELTA_MAX && signed <= SMALL_DELTA_MAX ? Number(signed) : undefined;
    return incrementBy(context, args[1]!, signed, small);
  };
}

export async function incrbyfloatCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const key = args[1]!;
  const existing = await context.store.get(key);
  let current = 0;
  if (existing !== undefined) {
    const parsed = parseFloatArgument(existing.value);
    if (parsed === undefined) return NOT_FLOAT;
    current = parsed;
  }
  const increment = parseFloatArgument(args[2]!);
  if (increment === undefined) return NOT_FLOAT;
  const next = current + increment;
  if (!Number.isFinite(next)) return NAN_OR_INFINITY;
  const formatted = Buffer.from(formatHumanFloat(next));
  await context.store.put(key, formatted, {
    expiresAtMs: existing?.expiresAtMs ?? 0,
    flags: existing?.flags ?? 0,
  });
  return bulk(formatted);
}

export { EMPTY_ARRAY };
