/**
 * Every tunable of the engine in one place, each with the reason for its value,
 * followed by the format constants. Format constants are PART OF THE FILE
 * FORMAT: changing one makes existing databases unreadable.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

// ---------------------------------------------------------------------------
// Tunables (defaults of OpenOptions and internal limits)
// ---------------------------------------------------------------------------

/** A 4 MiB memtable keeps flushes short (~40 ms of I/O) and L0 tables small, as LevelDB does. */
export const DEFAULT_MEMTABLE_SIZE_BYTES = 4 * MIB;
/** 8 MiB of decoded blocks: classic-level's default, so benchmarks compare like with like. */
export const DEFAULT_BLOCK_CACHE_SIZE_BYTES = 8 * MIB;
/** ~4 KiB data blocks: one page per read, small enough that a point read decodes little. */
export const DEFAULT_BLOCK_SIZE_BYTES = 4 * KIB;
/** 10 bits per key gives a ~1 % false-positive rate with 7 probes. */
export const DEFAULT_BLOOM_BITS_PER_KEY = 10;
/** Restart the prefix compression every 16 keys so a seek inside a block scans at most 15 entries. */
export const BLOCK_RESTART_INTERVAL = 16;

/** Largest key accepted: keys live whole in index blocks and in the manifest, keep them small. */
export const MAX_KEY_SIZE_BYTES = 64 * KIB;
/** Largest value accepted: a value is written whole into one data block and one log record. */
export const MAX_VALUE_SIZE_BYTES = 16 * MIB;
/** Largest write batch (sum of keys and values): one batch is one log record, replayed in memory. */
export const MAX_BATCH_SIZE_BYTES = 64 * MIB;
/** Group commit stops adding batches to a group past this size, bounding one write(2) (LevelDB: 1 MiB). */
export const MAX_GROUP_COMMIT_BYTES = 1 * MIB;
/**
 * When the first batch of a group is small, the group grows by at most this
 * much, so small writes are not delayed behind a huge group and the memtable
 * overshoots its size by little (LevelDB's rule).
 */
export const SMALL_GROUP_EXTRA_BYTES = 128 * KIB;

/**
 * Full memtables that may wait for their flush while writes continue into a
 * new one. Two absorb a slow flush (a table fsync on a busy disk) without
 * stopping writers; more would only hold more memory (RocksDB's default
 * max_write_buffer_number of 2 allows one).
 */
export const MAX_IMMUTABLE_MEMTABLES = 2;
/**
 * A full memtable whose live data (values not overwritten since) fills at
 * most this share of it compacts its values in memory instead of being
 * flushed (Memtable.compactValues) ...
 */
export const MEMTABLE_COMPACT_LIVE_SHARE = 0.5;
/**
 * ... as long as its commit log stays under this many memtable sizes: the
 * log bounds recovery time, as RocksDB's max_total_wal_size does.
 */
export const MAX_LOG_MEMTABLE_SIZES = 4;
/** Number of L0 tables that makes L0 worth compacting into L1 (LevelDB: 4). */
export const L0_COMPACTION_TRIGGER = 4;
/** Past this many L0 tables each write group waits WRITE_SLOWDOWN_DELAY_MS, letting compaction catch up. */
export const L0_SLOWDOWN_WRITES_TRIGGER = 8;
/** Past this many L0 tables writes stop until compaction brings the count down. */
export const L0_STOP_WRITES_TRIGGER = 12;
/** Delay applied to one write group while slowed down. */
export const WRITE_SLOWDOWN_DELAY_MS = 1;
/** Target size of L1; each deeper level is LEVEL_SIZE_MULTIPLIER times larger. */
export const LEVEL1_MAX_BYTES = 10 * MIB;
/** Fan-out between levels: 10 keeps ~90 % of the data in the last level (space amplification ~1.1). */
export const LEVEL_SIZE_MULTIPLIER = 10;
/** Number of levels L0..L6, enough for 10 MiB * 10^5 = 1 TB in the last level. */
export const NUM_LEVELS = 7;
/** Compaction output files are cut at this size so one later compaction touches little data. */
export const TARGET_TABLE_SIZE_BYTES = 2 * MIB;
/**
 * Compaction writes at most this many bytes per second, leaving disk bandwidth
 * to foreground work; high enough that compaction keeps up with ~20 MiB/s of
 * user writes at a write amplification of ~6.
 */
export const DEFAULT_COMPACTION_RATE_BYTES_PER_SECOND = 128 * MIB;
/**
 * A merge (flush or compaction) runs in slices and yields to the event loop
 * between them, so reads and writes interleave. A slice lasts
 * MERGE_SLICE_SHARE times as long as the event loop spent on other work
 * during the previous yield (at least MERGE_MIN_SLICE_MS): on a busy node the
 * merge gets a third of the thread instead of one fixed slice per turn. With
 * fixed 2048-entry slices a 64 MiB flush under a pipelined MSET load took
 * ~280 turns of ~25 ms, writers filled the next memtables first and stalled.
 */
export const MERGE_SLICE_SHARE = 0.5;
export const MERGE_MIN_SLICE_MS = 1;
/** Entries merged between two looks at the clock. */
export const MERGE_CLOCK_CHECK_ENTRIES = 256;
/** Table files are written through a buffer of this size: one write(2) per 256 KiB. */
export const TABLE_WRITE_BUFFER_BYTES = 256 * KIB;
/** Compaction reads its inputs in chunks of this size (sequential readahead, bypassing the cache). */
export const COMPACTION_READAHEAD_BYTES = 1 * MIB;
/** The writer yields to the event loop after this long of back-to-back groups (see runWriter). */
export const WRITER_SLICE_MS = 2;
/** Everysec policy: interval between background fsyncs of the log. */
export const EVERYSEC_SYNC_INTERVAL_MS = 1000;
/** Block offsets in index entries are varint32: a table file stays under 4 GiB. Part of the file format. */
export const MAX_TABLE_SIZE_BYTES = 2 ** 32 - 1;

// ---------------------------------------------------------------------------
// Format constants: PART OF THE FILE FORMAT, never change them.
// ---------------------------------------------------------------------------

/** Value types inside an internal key. Part of the file format. */
export const TYPE_DELETION = 0;
export const TYPE_VALUE = 1;

/** Internal key trailer length: type (1) + sequence (6, little-endian) + reserved (1). Part of the file format. */
export const INTERNAL_KEY_TRAILER_BYTES = 8;
/** Sequence numbers are 48-bit. Part of the file format. */
export const MAX_SEQUENCE = 2 ** 48 - 1;

/** Log record header: crc32c (4) + length (4) + type (1). Part of the file format. */
export const LOG_HEADER_BYTES = 9;
/** Log record type of a write batch. Part of the file format. */
export const LOG_RECORD_WRITE_BATCH = 1;

/** Table footer: see table-builder.ts. Part of the file format. */
export const TABLE_FOOTER_BYTES = 48;
/** "SCLSMTBL" as a little-endian u64 magic at the end of every table. Part of the file format. */
export const TABLE_MAGIC = Buffer.from("SCLSMTBL", "latin1");
export const TABLE_FORMAT_VERSION = 1;
/** Block trailer: compression type (1) + crc32c (4). Part of the file format. */
export const BLOCK_TRAILER_BYTES = 5;
export const BLOCK_COMPRESSION_NONE = 0;

/** Manifest header: magic (8) + version (4) + body length (4) + crc32c (4). Part of the file format. */
export const MANIFEST_MAGIC = Buffer.from("SCLSMMAN", "latin1");
export const MANIFEST_FORMAT_VERSION = 1;
export const MANIFEST_HEADER_BYTES = 20;
