/**
 * @scaleout/lsm: an embedded LSM-tree storage engine (commit log, memtable,
 * SSTables with bloom filters, manifest, leveled compaction). See README.md.
 */

/** Copies short byte ranges without a native call (also used by the kv memory engine). */
export { putBytes } from "./coding.js";
export {
  DEFAULT_BLOCK_CACHE_SIZE_BYTES,
  DEFAULT_BLOCK_SIZE_BYTES,
  DEFAULT_BLOOM_BITS_PER_KEY,
  DEFAULT_MEMTABLE_SIZE_BYTES,
  L0_SLOWDOWN_WRITES_TRIGGER,
  L0_STOP_WRITES_TRIGGER,
  MAX_BATCH_SIZE_BYTES,
  MAX_KEY_SIZE_BYTES,
  MAX_VALUE_SIZE_BYTES,
} from "./constants.js";
export { open } from "./db.js";
export { LsmError, LsmErrorCode, type LsmErrorCodeValue } from "./errors.js";
/** The memtable's index of key bytes, also the kv memory engine's. */
export { hashBytes, KeyIndex } from "./key-index.js";
export type {
  Database,
  EngineStats,
  FlushEntryListener,
  IteratorOptions,
  LevelStats,
  Logger,
  OpenOptions,
  ReadOptions,
  Snapshot,
  SyncPolicy,
} from "./types.js";
export { WriteBatch } from "./write-batch.js";
