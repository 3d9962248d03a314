/**
 * Generic key commands (Redis db.c / expire.c): existence, deletion, TTLs,
 * iteration and renaming. Only string values exist, so TYPE answers "string"
 * or "none".
 */
import { DEFAULT_SCAN_COUNT } from "../limits.js";
import {
  array,
  bulk,
  bulkOrNull,
  error,
  integer,
  NULL,
  OK,
  ONE,
  type Reply,
  simple,
  ZERO,
} from "../resp/reply.js";
import { isWord, parseInt64, text } from "./arguments.js";
import { globMatch } from "./glob.js";
import {
  INVALID_CURSOR,
  invalidExpireTime,
  NO_SUCH_KEY,
  NOT_INTEGER,
  SYNTAX_ERROR,
} from "./replies.js";
import type { CommandContext } from "./types.js";

const INT64_MAX = 9223372036854775807n;

export async function delCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  let removed = 0;
  for (let i = 1; i < args.length; i++) if (await context.store.delete(args[i]!)) removed++;
  return integer(removed);
}

export async function existsCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  let found = 0;
  for (let i = 1; i < args.length; i++)
    if ((await context.store.get(args[i]!)) !== undefined) found++;
  return integer(found);
}

export async function typeCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  return simple((await context.store.get(args[1]!)) === undefined ? "none" : "string");
}

type ExpireFlags = { nx: boolean; xx: boolean; gt: boolean; lt: boolean };

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT] (expire.c expireGenericCommand). */
export function expireCommand(unit: "seconds" | "ms", absolute: boolean) {
  return async (context: CommandContext, args: Buffer[]): Promise<Reply> => {
    const flags: ExpireFlags = { nx: false, xx: false, gt: false, lt: false };
    for (let j = 3; j < args.length; j++) {
      const opt = args[j]!;
      if (isWord(opt, "NX")) flags.nx = true;
      else if (isWord(opt, "XX")) flags.xx = true;
      else if (isWord(opt, "GT")) flags.gt = true;
      else if (isWord(opt, "LT")) flags.lt = true;
      else return error(`ERR Unsupported option ${text(opt)}`);
    }
    if (flags.nx && (flags.xx || flags.gt || flags.lt)) {
      return error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if (flags.gt && flags.lt)
      return error("ERR GT and LT options at the same time are not compatible");
    const raw = parseInt64(args[2]!);
    if (raw === undefined) return NOT_INTEGER;
    let when = raw;
    if (unit === "seconds") {
      if (when > INT64_MAX / 1000n || when < -INT64_MAX / 1000n)
        return invalidExpireTime(context.spec.name);
      when *= 1000n;
    }
    const base = absolute ? 0n : BigInt(context.nowMs);
    if (when > INT64_MAX - base) return invalidExpireTime(context.spec.name);
    when += base;
    const key = args[1]!;
    const entry = await context.store.get(key);
    if (entry === undefined) return ZERO;
    const current = entry.expiresAtMs === 0 ? -1n : BigInt(entry.expiresAtMs);
    if (flags.nx && current !== -1n) return ZERO;
    if (flags.xx && current === -1n) return ZERO;
    if (flags.gt && (current === -1n || when <= current)) return ZERO;
    if (flags.lt && current !== -1n && when >= current) return ZERO;
    if (when <= BigInt(context.nowMs)) {
      await context.store.delete(key);
      return ONE;
    }
    const expiresAtMs =
      when > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(when);
    await context.store.put(key, entry.value, { expiresAtMs, flags: entry.flags });
    return ONE;
  };
}

/** TTL / PTTL: -2 no key, -1 no expiry, else the remaining time (TTL rounds to the nearest second). */
export function ttlCommand(unit: "seconds" | "ms") {
  return async (context: CommandContext, args: Buffer[]): Promise<Reply> => {
    const entry = await context.store.get(args[1]!);
    if (entry === undefined) return integer(-2);
    if (entry.expiresAtMs === 0) return integer(-1);
    const remaining = Math.max(0, entry.expiresAtMs - context.nowMs);
    return integer(unit === "ms" ? remaining : Math.floor((remaining + 500) / 1000));
  };
}

/** EXPIRETIME / PEXPIRETIME: the absolute expiry. */
export function expiretimeCommand(unit: "seconds" | "ms") {
  return async (context: CommandContext, args: Buffer[]): Promise<Reply> => {
    const entry = await context.store.get(args[1]!);
    if (entry === undefined) return integer(-2);
    if (entry.expiresAtMs === 0) return integer(-1);
    return integer(unit === "ms" ? entry.expiresAtMs : Math.floor(entry.expiresAtMs / 1000));
  };
}

export async function persistCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const entry = await context.store.get(args[1]!);
  if (entry === undefined || entry.expiresAtMs === 0) return ZERO;
  await context.store.put(args[1]!, entry.value, { expiresAtMs: 0, flags: entry.flags });
  return ONE;
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
export async function scanCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const cursorText = text(args[1]!);
  if (!/^\d+$/.test(cursorText) || BigInt(cursorText) > 18446744073709551615n)
    return INVALID_CURSOR;
  let count = DEFAULT_SCAN_COUNT;
  let pattern: Buffer | undefined;
  let typeFilter: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!;
    const value = args[i + 1];
    if (isWord(opt, "COUNT") && value !== undefined) {
      const parsed = parseInt64(value);
      if (parsed === undefined) return NOT_INTEGER;
      if (parsed < 1n) return SYNTAX_ERROR;
      count = parsed > 1_000_000n ? 1_000_000 : Number(parsed);
      i++;
    } else if (isWord(opt, "MATCH") && value !== undefined) {
      pattern = value;
      i++;
    } else if (isWord(opt, "TYPE") && value !== undefined) {
      typeFilter = text(value).toLowerCase();
      i++;
    } else {
      return SYNTAX_ERROR;
    }
  }
  const cursor = cursorText.replace(/^0+(?=\d)/, "");
  const page = await context.store.scan(cursor, count);
  let keys = page.keys;
  if (pattern !== undefined) {
    const glob = pattern;
    keys = keys.filter((key) => globMatch(glob, key));
  }
  if (typeFilter !== undefined && typeFilter !== "string") keys = [];
  return array([bulk(page.cursor), array(keys.map((key) => bulk(key)))]);
}

export async function keysCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  const pattern = args[1]!;
  const matchAll = pattern.length === 1 && pattern[0] === 0x2a;
  const keys: Reply[] = [];
  for await (const key of context.store.keys()) {
    if (matchAll || globMatch(pattern, key)) keys.push(bulk(key));
  }
  return array(keys);
}

export async function dbsizeCommand(context: CommandContext): Promise<Reply> {
  return integer(await context.store.count());
}

export async function randomkeyCommand(context: CommandContext): Promise<Reply> {
  return bulkOrNull(await context.store.randomKey());
}

/** RENAME / RENAMENX: the value and its TTL move to the new name. */
export function renameCommand(onlyIfAbsent: boolean) {
  return async (context: CommandContext, args: Buffer[]): Promise<Reply> => {
    const source = args[1]!;
    const target = args[2]!;
    const entry = await context.store.get(source);
    if (entry === undefined) return NO_SUCH_KEY;
    if (source.equals(target)) return onlyIfAbsent ? ZERO : OK;
    if (onlyIfAbsent && (await context.store.get(target)) !== undefined) return ZERO;
    await context.store.put(target, entry.value, {
      expiresAtMs: entry.expiresAtMs,
      flags: entry.flags,
    });
    await context.store.delete(source);
    return onlyIfAbsent ? ONE : OK;
  };
}

/** FLUSHDB / FLUSHALL [ASYNC|SYNC]: both clear the node's single database. */
export async function flushCommand(context: CommandContext, args: Buffer[]): Promise<Reply> {
  if (args.length > 2) return SYNTAX_ERROR;
  if (args.length === 2 && !isWord(args[1]!, "ASYNC") && !isWord(args[1]!, "SYNC"))
    return SYNTAX_ERROR;
  await context.store.clear();
  return OK;
}

export { NULL };
