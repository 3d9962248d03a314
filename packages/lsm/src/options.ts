/** Validates OpenOptions and fills defaults; a bad field is one clear error naming it. */
import {
  DEFAULT_BLOCK_CACHE_SIZE_BYTES,
  DEFAULT_BLOCK_SIZE_BYTES,
  DEFAULT_BLOOM_BITS_PER_KEY,
  DEFAULT_COMPACTION_RATE_BYTES_PER_SECOND,
  DEFAULT_MEMTABLE_SIZE_BYTES,
} from "./constants.js";
import { LsmError, LsmErrorCode } from "./errors.js";
import type { FlushEntryListener, Logger, OpenOptions, SyncPolicy } from "./types.js";

export interface ResolvedOptions {
  syncPolicy: SyncPolicy;
  memtableSizeBytes: number;
  blockCacheSizeBytes: number;
  blockSizeBytes: number;
  bloomBitsPerKey: number;
  logger: Logger;
  createIfMissing: boolean;
  compactionRateBytesPerSecond: number;
  readMode: "sync" | "async";
  onFlushEntry: FlushEntryListener | undefined;
}

const SILENT: Logger = { warn() {}, info() {} };

export function resolveOptions(options: OpenOptions = {}): ResolvedOptions {
  const syncPolicy = options.syncPolicy ?? "everysec";
  if (syncPolicy !== "always" && syncPolicy !== "everysec" && syncPolicy !== "never") {
    throw invalid(
      "syncPolicy",
      `must be "always", "everysec" or "never", got ${String(syncPolicy)}`,
    );
  }
  const readMode = options.readMode ?? "sync";
  if (readMode !== "sync" && readMode !== "async") {
    throw invalid("readMode", `must be "sync" or "async", got ${String(readMode)}`);
  }
  return {
    syncPolicy,
    readMode,
    memtableSizeBytes: integer(
      "memtableSizeBytes",
      options.memtableSizeBytes,
      DEFAULT_MEMTABLE_SIZE_BYTES,
      4096,
      2 ** 30,
    ),
    blockCacheSizeBytes: integer(
      "blockCacheSizeBytes",
      options.blockCacheSizeBytes,
      DEFAULT_BLOCK_CACHE_SIZE_BYTES,
      0,
      2 ** 40,
    ),
    blockSizeBytes: integer(
      "blockSizeBytes",
      options.blockSizeBytes,
      DEFAULT_BLOCK_SIZE_BYTES,
      256,
      2 ** 24,
    ),
    bloomBitsPerKey: integer(
      "bloomBitsPerKey",
      options.bloomBitsPerKey,
      DEFAULT_BLOOM_BITS_PER_KEY,
      0,
      64,
    ),
    logger: options.logger ?? SILENT,
    onFlushEntry: listener("onFlushEntry", options.onFlushEntry),
    createIfMissing: options.createIfMissing ?? true,
    compactionRateBytesPerSecond: integer(
      "compactionRateBytesPerSecond",
      options.compactionRateBytesPerSecond,
      DEFAULT_COMPACTION_RATE_BYTES_PER_SECOND,
      1024 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function integer(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function invalid(field: string, why: string): LsmError {
  return new LsmError(LsmErrorCode.INVALID_OPTION, `invalid option ${field}: ${why}`);
}

function listener(name: string, value: unknown): FlushEntryListener | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalid(name, `must be a function, got ${typeof value}`);
  return value as FlushEntryListener;
}
