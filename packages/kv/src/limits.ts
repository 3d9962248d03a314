/**
 * Tunables and protocol limits, in one place. Each has a one-line reason; the
 * ones that mirror Redis keep Redis's value so clients see the same behaviour.
 */

/** Redis PROTO_INLINE_MAX_SIZE: longest inline command or header line. */
export const INLINE_MAX_SIZE_BYTES = 64 * 1024;
/** Redis PROTO_MBULK_BIG_ARG: payloads at least this big get their own buffer while arriving. */
export const BIG_ARG_SIZE_BYTES = 32 * 1024;
/** Redis refuses multibulk counts above this from clients that have not authenticated. */
export const UNAUTHENTICATED_MULTIBULK_MAX = 10;
/** Redis refuses bulk lengths above this from clients that have not authenticated. */
export const UNAUTHENTICATED_BULK_MAX_BYTES = 16 * 1024;

/** Default proto-max-bulk-len (Redis: 512mb). */
export const DEFAULT_MAX_BULK_BYTES = 512 * 1024 * 1024;
/** Default client-query-buffer-limit (Redis: 1gb). */
export const DEFAULT_QUERY_BUFFER_LIMIT_BYTES = 1024 * 1024 * 1024;
/** Default longest key: keys are copied into indexes and replies, so keep them modest. */
export const DEFAULT_MAX_KEY_BYTES = 64 * 1024;
/** Default client output buffer limit: a client that lets this much pile up unread is dropped. */
export const DEFAULT_OUTPUT_BUFFER_LIMIT_BYTES = 64 * 1024 * 1024;
/** Default maxclients (Redis: 10000). */
export const DEFAULT_MAX_CLIENTS = 10_000;
/** Default idle timeout in seconds; 0 disables it (Redis `timeout 0`). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 0;

/**
 * Bytes counted for one entry in the memory engine on top of its value and
 * twice its key (the Map's key string and the byte index's copy): the Map
 * slot, the entry object, the index's slots and per-record arrays.
 */
export const ENTRY_OVERHEAD_BYTES = 160;
/** Active expiry runs this often (Redis hz 10). */
export const ACTIVE_EXPIRE_INTERVAL_MS = 100;
/** Keys sampled per active-expiry round (Redis ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const ACTIVE_EXPIRE_KEYS_PER_LOOP = 20;
/** Another round runs while more than this share of the sample had expired (Redis: 25 %). */
export const ACTIVE_EXPIRE_REPEAT_RATIO = 0.25;
/** Time budget of one active-expiry cycle (Redis: 25 % of a 100 ms tick). */
export const ACTIVE_EXPIRE_BUDGET_MS = 25;
/** lsm row cache of decoded entries: enough for about a million small entries. */
export const DEFAULT_ROW_CACHE_SIZE_BYTES = 128 * 1024 * 1024;
/**
 * The node's lsm memtable (the engine's own default is 4 MiB). A node serves
 * a hot key space from memory, as Redis does: a larger memtable absorbs
 * overwrites of hot keys (a flush writes each key once, however often it
 * was written), so a 100k-key workload flushes ~6x less, and point reads of
 * recent keys are answered by the memtable's hash index. Costs: up to four
 * times this much log to replay at restart (a memtable of overwritten values
 * compacts in memory until its log reaches that, see @scaleout/lsm
 * MAX_LOG_MEMTABLE_SIZES), and twice this much memory while one memtable
 * flushes.
 */
export const DEFAULT_LSM_MEMTABLE_SIZE_BYTES = 64 * 1024 * 1024;
/** The lsm engine's expiry cycle scans this many keys per tick, resuming where it stopped. */
export const LSM_EXPIRE_SCAN_KEYS_PER_TICK = 200;

/** Redis LFU: log factor of the probabilistic counter (lfu-log-factor). */
export const LFU_LOG_FACTOR = 10;
/** Redis LFU: the counter drops by one for each this many minutes without access (lfu-decay-time). */
export const LFU_DECAY_MINUTES = 1;
/** Redis LFU_INIT_VAL: a new key starts here so it is not evicted at once. */
export const LFU_INIT_VALUE = 5;

/** SCAN cursors kept open at once; the oldest is dropped past this (its client restarts at 0). */
export const MAX_OPEN_SCAN_CURSORS = 4096;
/** Default COUNT of SCAN (Redis: 10). */
export const DEFAULT_SCAN_COUNT = 10;

/** memcached: largest item value (memcached -I default 1m). */
export const MEMCACHED_MAX_ITEM_BYTES = 1024 * 1024;
/** memcached: longest key (KEY_MAX_LENGTH). */
export const MEMCACHED_MAX_KEY_BYTES = 250;
/** memcached: longest command line before "CLIENT_ERROR line too long"-style closing. */
export const MEMCACHED_MAX_LINE_BYTES = 2048;
/** memcached: exptime above this many seconds is an absolute Unix time (REALTIME_MAXDELTA). */
export const MEMCACHED_REALTIME_MAX_DELTA_SECONDS = 60 * 60 * 24 * 30;

/** HTTP: largest request body. */
export const HTTP_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Graceful shutdown gives in-flight work this long before closing connections anyway. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;

/**
 * V8 flags a node process runs with (the `scaleout` launcher, `npm start`,
 * the nodes `kv up` starts, the benchmark). A 32 MiB semi-space (Node 20's
 * default is 16) lets the short-lived objects of each request batch — argument
 * views, replies, write batches — die young instead of being promoted and
 * marked: main-thread CPU per MSET without pipelining 40–43 → 31–33 µs, with
 * -P 16 21–28 → 19–21 µs (kv node, 100 k keys). Costs ~48 MiB more young
 * generation. Set at process start only: V8 sizes the heap once.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = ["--max-semi-space-size=32"];
