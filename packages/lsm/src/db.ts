/**
 * The engine: ties the commit log, memtables, table files, manifest and
 * compaction together behind the Database interface.
 *
 * Write path: a write joins the writer queue; the writer takes the queued
 * batches (up to MAX_GROUP_COMMIT_BYTES, or SMALL_GROUP_EXTRA_BYTES past a
 * small first batch), gives them consecutive sequence numbers,
 * appends them to the commit log with one write(2) (and one fsync under
 * "always"), inserts them into the memtable, then acknowledges them all (group
 * commit). Before a group, `makeRoomForWrite` switches to a new memtable and log
 * when the memtable is full; the full one becomes immutable and is flushed to
 * an L0 table in the background while writes continue (up to
 * MAX_IMMUTABLE_MEMTABLES may wait for their flush).
 *
 * Buffered write path ("everysec", "never"; `putBuffered` and friends): the
 * same record encoding and memtable insert, done synchronously, the log
 * record left in the log writer's pending chunk until `commitBuffered()`
 * (scheduled once per event-loop turn), so any number of writers in one turn
 * share one write(2) and none waits for a promise.
 *
 * Read path: memtable, immutable memtables, then the tables of the current
 * version: L0 newest first, then one table per deeper level; a bloom filter
 * skips most tables that lack the key.
 *
 * Background work: at most one flush (on the event loop, yielding between
 * chunks of entries) and one compaction (on the compaction thread, see
 * compaction-thread.ts) run at a time, so reads and writes keep going.
 * Version changes are serialized through the manifest.
 */
import { mkdir, readdir, stat, unlink } from "node:fs/promises";
import { bloomHash } from "./bloom.js";
import { varintLength } from "./coding.js";
import { type CompactionPick, keyRange, pickCompaction, writeSortedRun } from "./compaction.js";
import { outputFileBudget } from "./compaction-job.js";
import { compactionThread } from "./compaction-thread.js";
import {
  EVERYSEC_SYNC_INTERVAL_MS,
  L0_SLOWDOWN_WRITES_TRIGGER,
  L0_STOP_WRITES_TRIGGER,
  LOG_HEADER_BYTES,
  MAX_GROUP_COMMIT_BYTES,
  MAX_IMMUTABLE_MEMTABLES,
  MAX_LOG_MEMTABLE_SIZES,
  MAX_SEQUENCE,
  MEMTABLE_COMPACT_LIVE_SHARE,
  NUM_LEVELS,
  SMALL_GROUP_EXTRA_BYTES,
  TARGET_TABLE_SIZE_BYTES,
  TYPE_DELETION,
  TYPE_VALUE,
  WRITE_SLOWDOWN_DELAY_MS,
  WRITER_SLICE_MS,
} from "./constants.js";
import {
  iterateForward,
  iterateReverse,
  iteratorBounds,
  LazyTableIterator,
} from "./db-iterator.js";
import { LsmError, LsmErrorCode } from "./errors.js";
import { filePath, LOCK_FILE, logFileName, parseFileName, tableFileName } from "./filenames.js";
import type { InternalIterator } from "./internal-iterator.js";
import { compareKeys } from "./internal-key.js";
import { hashBytes } from "./key-index.js";
import { LevelIterator } from "./level-iterator.js";
import { LockFile } from "./lock-file.js";
import {
  applyBatchPayload,
  BATCH_HEADER_BYTES,
  batchRecordSize,
  encodeBatchRecord,
  encodePairsRecord,
  encodeSinglePutRecord,
  encodeSingleRecord,
  operationSize,
  singlePutRecordSize,
  singleRecordSize,
} from "./log-format.js";
import { readLogRecords } from "./log-reader.js";
import { LogWriter } from "./log-writer.js";
import { readCurrentManifest, writeManifest } from "./manifest.js";
import { Memtable } from "./memtable.js";
import { MergingIterator } from "./merging-iterator.js";
import { type ResolvedOptions, resolveOptions } from "./options.js";
import { Counters } from "./stats.js";
import { TableBuilder } from "./table-builder.js";
import { TableCache } from "./table-cache.js";
import { type Lookup, TOMBSTONE } from "./table-reader.js";
import type {
  Database,
  EngineStats,
  IteratorOptions,
  OpenOptions,
  ReadOptions,
  Snapshot,
} from "./types.js";
import { type TableMeta, Version } from "./version.js";
import {
  checkBatchSize,
  checkKey,
  checkKeyLength,
  checkValue,
  checkValueLength,
  WriteBatch,
} from "./write-batch.js";

/** Opens (or creates) the database in `dir`. Only one open handle per directory is allowed. */
export async function open(dir: string, options?: OpenOptions): Promise<Database> {
  return LsmDatabase.open(dir, resolveOptions(options));
}

/**
 * One entry of the writer queue: a WriteBatch, a single put/delete (no batch
 * object on the hot path), or, with neither, a request to switch to a new
 * memtable (flush).
 */
interface WriteRequest {
  batch: WriteBatch | null;
  /** Single operation: its type, key and value (key null when not a single operation). */
  type: number;
  key: Buffer | null;
  value: Buffer;
  sizeBytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const NO_VALUE: Buffer = Buffer.alloc(0);

class SnapshotHandle implements Snapshot {
  released = false;
  constructor(
    readonly sequence: number,
    readonly owner: LsmDatabase,
    private readonly onRelease: (snapshot: SnapshotHandle) => void,
  ) {}
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
  }
}

export class LsmDatabase implements Database {
  private readonly counters = new Counters();
  private readonly tableCache: TableCache;
  /** Id of this database's job on the compaction thread, while one runs. */
  private compactionJobId: number | null = null;
  private version: Version = Version.empty();
  private readonly pinnedVersions = new Set<Version>();
  private nextFileNumber = 2;
  private manifestNumber = 1;
  /** Logs below this number are obsolete (their data is in tables). */
  private logNumber = 0;
  private mem: Memtable;
  /** Full memtables waiting for their flush, oldest first (at most MAX_IMMUTABLE_MEMTABLES). */
  private imms: Memtable[] = [];
  private log: LogWriter | null = null;
  private lastSeq = 0;
  private readonly queue: WriteRequest[] = [];
  private writing = false;
  private writerIdle: (() => void)[] = [];
  private readonly snapshots = new Map<number, number>();
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private backgroundError: LsmError | null = null;
  private backgroundWaiters: (() => void)[] = [];
  private readonly pendingOutputs = new Set<number>();
  private readonly compactPointers: (Buffer | null)[] = new Array<Buffer | null>(NUM_LEVELS).fill(
    null,
  );
  private manifestChain: Promise<void> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** close() was called: new writes are refused while queued ones drain. */
  private closeStarted = false;
  private closePromise: Promise<void> | null = null;
  private closing = false;
  /** Manual compact() in progress: automatic picks wait so the two do not race for the same tables. */
  private manualCompaction = false;

  private constructor(
    readonly dir: string,
    private readonly options: ResolvedOptions,
    private readonly lock: LockFile,
  ) {
    this.tableCache = new TableCache(
      dir,
      options.blockCacheSizeBytes,
      this.counters,
      options.readMode,
    );
    this.mem = new Memtable(0);
  }

  static async open(dir: string, options: ResolvedOptions): Promise<LsmDatabase> {
    if (options.createIfMissing) {
      await mkdir(dir, { recursive: true });
    } else {
      const info = await stat(dir).catch(() => null);
      if (info === null || !info.isDirectory()) {
        throw new LsmError(LsmErrorCode.NOT_FOUND, `database directory ${dir} does not exist`);
      }
    }
    const lock = await LockFile.acquire(filePath(dir, LOCK_FILE), options.logger);
    const db = new LsmDatabase(dir, options, lock);
    try {
      await db.recover();
    } catch (error) {
      await db.tableCache.closeAll();
      await db.log?.close(false).catch(() => undefined);
      await lock.release();
      throw error;
    }
    if (options.syncPolicy === "everysec") {
      LsmDatabase.startSyncTimer(db);
    }
    db.scheduleBackgroundWork();
    return db;
  }

  private static startSyncTimer(db: LsmDatabase): void {
    db.syncTimer = setInterval(() => {
      const log = db.log;
      if (log === null || (!log.dirty && log.pendingBytes === 0)) return;
      log.sync().catch((error: unknown) => {
        if (log === db.log && !db.closed) {
          db.options.logger.warn(
            { err: String(error), file: log.path },
            "background log fsync failed",
          );
        }
      });
    }, EVERYSEC_SYNC_INTERVAL_MS);
    db.syncTimer.unref();
  }

  // -------------------------------------------------------------------------
  // Recovery
  // -------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const { logger } = this.options;
    const current = await readCurrentManifest(this.dir);
    if (current === null) {
      if (!this.options.createIfMissing) {
        throw new LsmError(LsmErrorCode.NOT_FOUND, `no database in ${this.dir} (no CURRENT file)`);
      }
    } else {
      this.manifestNumber = current.manifestNumber;
      this.nextFileNumber = current.state.nextFileNumber;
      this.lastSeq = current.state.lastSequence;
      this.logNumber = current.state.logNumber;
      this.version = new Version(current.state.levels.map((tables) => [...tables]));
    }
    const names = await readdir(this.dir);
    const present = new Set<number>();
    const logs: number[] = [];
    for (const name of names) {
      const parsed = parseFileName(name);
      if (parsed === null) continue;
      if (parsed.number >= this.nextFileNumber) this.nextFileNumber = parsed.number + 1;
      if (parsed.kind === "table") present.add(parsed.number);
      if (parsed.kind === "log" && parsed.number >= this.logNumber) logs.push(parsed.number);
    }
    for (const tables of this.version.levels) {
      for (const table of tables) {
        if (!present.has(table.number)) {
          throw new LsmError(
            LsmErrorCode.CORRUPTION,
            `table file ${filePath(this.dir, tableFileName(table.number))} named by the manifest is missing`,
          );
        }
      }
    }

    // Replay the commit logs that are newer than the last flush, oldest first.
    logs.sort((a, b) => a - b);
    const recovered = new Memtable(0);
    // Nothing reads it but the flush below: replayed overwrites need no older versions.
    recovered.overwriteInPlace = true;
    for (const number of logs) {
      const path = filePath(this.dir, logFileName(number));
      const records = await readLogRecords(path, (tail) => {
        logger.warn(tail, "dropping torn or corrupt commit log tail");
      });
      for (const payload of records) {
        const last = applyBatchPayload(payload, recovered);
        if (last > this.lastSeq) this.lastSeq = last;
      }
    }
    if (recovered.entryCount > 0) {
      logger.info(
        { entries: recovered.entryCount, logs: logs.length },
        "recovered writes from the commit log",
      );
    }

    // Start a fresh log; the recovered entries go to an L0 table first, so the old logs can go.
    const added: { level: number; table: TableMeta }[] = [];
    if (recovered.entryCount > 0) {
      const it = recovered.iterator();
      it.seekToFirst();
      const tables = await writeSortedRun(it, {
        newTable: () => this.newTableBuilder(),
        smallestSnapshot: this.lastSeq,
        canDropTombstone: () => false,
        splitOutput: false,
        shouldStop: () => false,
      });
      for (const table of tables) added.push({ level: 0, table });
    }
    const logNumber = this.nextFileNumber++;
    this.log = await LogWriter.create(filePath(this.dir, logFileName(logNumber)), logNumber);
    this.mem = new Memtable(logNumber);
    this.mem.overwriteInPlace = this.openReaders === 0;
    await this.applyEdit(new Set(), added, logNumber);
    this.pendingOutputs.clear();
    await this.deleteObsoleteFiles();
  }

  // -------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    let k: Buffer;
    let v: Buffer;
    try {
      k = checkKey(key);
      v = checkValue(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(null, TYPE_VALUE, k, v);
  }

  delete(key: Uint8Array): Promise<void> {
    let k: Buffer;
    try {
      k = checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.enqueue(null, TYPE_DELETION, k, NO_VALUE);
  }

  write(batch: WriteBatch): Promise<void> {
    if (!(batch instanceof WriteBatch)) {
      return Promise.reject(
        new LsmError(LsmErrorCode.INVALID_ARGUMENT, "write() takes a WriteBatch"),
      );
    }
    if (batch.count === 0)
      return this.closed ? Promise.reject(this.closedError()) : Promise.resolve();
    return this.enqueue(batch, 0, null, NO_VALUE);
  }

  /**
   * The buffered write path, for the policies that acknowledge after write(2)
   * ("everysec", "never"): the write gets its sequence number, its log record
   * is encoded into the log's pending chunk and it is inserted into the
   * memtable, all synchronously, so it is visible to reads at once. Its bytes
   * reach the file with the next `commitBuffered()` — which the engine also
   * schedules itself (setImmediate), so buffered records are written once per
   * event-loop turn, however many writers there were (Redis's everysec
   * write(2) in beforeSleep). A caller that acknowledges a write to someone
   * else calls `commitBuffered()` first; a crash of the process before it
   * loses the buffered writes, as it would lose writes still in a queue.
   *
   * Returns false, having done nothing, when the write must take the queued
   * path (`put`/`delete`/`write`) instead: policy "always" (the ack waits for
   * fsync), writes already queued (they must keep their order), a full
   * memtable, an L0 slowdown, a background error or a closing database.
   * Invalid keys and values throw, as WriteBatch does.
   */
  putBuffered(key: Uint8Array, value: Uint8Array, prefix?: Uint8Array): boolean {
    const k = checkKey(key);
    const v = checkValue(value);
    const p = prefix === undefined ? NO_VALUE : checkValue(prefix);
    const valueLength = p.length + v.length;
    checkValueLength(valueLength);
    if (!this.canBuffer()) return false;
    const log = this.log!;
    const offset = log.reserve(singlePutRecordSize(k.length, valueLength));
    const chunk = log.pendingChunk;
    const seq = this.lastSeq + 1;
    const end = encodeSinglePutRecord(chunk, offset, k, p, v, seq);
    // The record ends with key length, key, value length, value: insert the ranges directly.
    const valueStart = end - valueLength;
    const keyEnd = valueStart - varintLength(valueLength);
    this.mem.addRange(chunk, keyEnd - k.length, keyEnd, seq, TYPE_VALUE, chunk, valueStart, end);
    this.noteBuffered(offset, end, 1, k.length + valueLength);
    return true;
  }

  /** `delete` on the buffered path; see putBuffered. */
  deleteBuffered(key: Uint8Array): boolean {
    const k = checkKey(key);
    if (!this.canBuffer()) return false;
    const size = singleRecordSize(TYPE_DELETION, k, NO_VALUE);
    const log = this.log!;
    const offset = log.reserve(size);
    const chunk = log.pendingChunk;
    const seq = this.lastSeq + 1;
    const end = encodeSingleRecord(chunk, offset, TYPE_DELETION, k, NO_VALUE, seq);
    // A deletion record ends with its key.
    this.mem.addRange(chunk, end - k.length, end, seq, TYPE_DELETION, chunk, end, end);
    this.noteBuffered(offset, end, 1, k.length);
    return true;
  }

  /** `write` on the buffered path (the batch stays one record: atomic in recovery); see putBuffered. */
  writeBuffered(batch: WriteBatch): boolean {
    if (!(batch instanceof WriteBatch)) {
      throw new LsmError(LsmErrorCode.INVALID_ARGUMENT, "writeBuffered() takes a WriteBatch");
    }
    if (!this.canBuffer() || this.lastSeq + batch.count > MAX_SEQUENCE) return false;
    if (batch.count === 0) return true;
    const size = batchRecordSize(batch);
    const log = this.log!;
    const offset = log.reserve(size);
    const end = encodeBatchRecord(log.pendingChunk, offset, batch, this.lastSeq + 1, this.mem);
    this.noteBuffered(offset, end, batch.count, batch.sizeBytes);
    return true;
  }

  /**
   * `writeBuffered` for a batch of puts whose keys and values are ranges of
   * one buffer — a parsed request, such as an MSET's arguments — without a
   * WriteBatch or a view per key and value: argument i is
   * source[ranges[2i], ranges[2i + 1]), the keys are arguments first,
   * first + 2, … < end (`end - first` is even) and each is followed by its
   * value. Each value is stored as `prefixBytes` bytes, written in place by
   * `writePrefix(out, offset)`, followed by the value's bytes. The batch is
   * one record (atomic in recovery). Invalid keys or sizes throw before
   * anything is written; false, having done nothing, when the write must take
   * the queued path (see putBuffered).
   */
  putPairsBuffered(
    source: Uint8Array,
    ranges: Int32Array,
    first: number,
    end: number,
    prefixBytes: number,
    writePrefix: (out: Buffer, offset: number) => void,
  ): boolean {
    let size = LOG_HEADER_BYTES + BATCH_HEADER_BYTES;
    let userBytes = 0;
    for (let i = first; i < end; i += 2) {
      const keyLength = ranges[2 * i + 1]! - ranges[2 * i]!;
      const valueLength = prefixBytes + ranges[2 * i + 3]! - ranges[2 * i + 2]!;
      checkKeyLength(keyLength);
      checkValueLength(valueLength);
      size += operationSize(TYPE_VALUE, keyLength, valueLength);
      userBytes += keyLength + valueLength;
    }
    checkBatchSize(userBytes);
    const count = (end - first) >> 1;
    if (!this.canBuffer() || this.lastSeq + count > MAX_SEQUENCE) return false;
    if (count === 0) return true;
    const log = this.log!;
    const offset = log.reserve(size);
    const chunk = log.pendingChunk;
    const seq = this.lastSeq + 1;
    const recordEnd = encodePairsRecord(
      chunk,
      offset,
      source,
      ranges,
      first,
      end,
      prefixBytes,
      writePrefix,
      seq,
      this.mem,
    );
    this.noteBuffered(offset, recordEnd, count, userBytes);
    return true;
  }

  /**
   * Writes the buffered records to the commit log now (one write(2)); a no-op
   * when none are pending. Throws (and stops further writes) when the write
   * fails: the caller must then not acknowledge the buffered writes.
   */
  commitBuffered(): void {
    const log = this.log;
    if (log === null || log.pendingBytes === 0) return;
    try {
      log.writePending();
    } catch (error) {
      throw this.setBackgroundError("commit log write failed", error);
    }
  }

  private canBuffer(): boolean {
    return (
      this.options.syncPolicy !== "always" &&
      !this.writing &&
      this.queue.length === 0 &&
      !this.closeStarted &&
      !this.closed &&
      this.backgroundError === null &&
      this.log !== null &&
      this.memtableHasRoom() &&
      this.version.levels[0]!.length < L0_SLOWDOWN_WRITES_TRIGGER &&
      this.lastSeq < MAX_SEQUENCE
    );
  }

  /** Bookkeeping after a buffered record was encoded and inserted into the memtable. */
  private noteBuffered(offset: number, end: number, count: number, userBytes: number): void {
    this.lastSeq += count;
    this.counters.logBytesWritten += end - offset;
    this.counters.userBytesWritten += userBytes;
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(this.scheduledCommit);
    }
  }

  private commitScheduled = false;
  private readonly scheduledCommit = (): void => {
    this.commitScheduled = false;
    try {
      this.commitBuffered();
    } catch {
      // Recorded as the background error: later writes fail with it.
    }
  };

  private enqueue(
    batch: WriteBatch | null,
    type: number,
    key: Buffer | null,
    value: Buffer,
  ): Promise<void> {
    if (this.closed || this.closeStarted) return Promise.reject(this.closedError());
    if (this.backgroundError !== null) return Promise.reject(this.backgroundError);
    return new Promise<void>((resolve, reject) => {
      const sizeBytes =
        batch !== null
          ? batchRecordSize(batch)
          : key !== null
            ? singleRecordSize(type, key, value)
            : 0;
      this.queue.push({ batch, type, key, value, sizeBytes, resolve, reject });
      if (!this.writing) void this.runWriter();
    });
  }

  private static isSwitch(request: WriteRequest): boolean {
    return request.batch === null && request.key === null;
  }

  private async runWriter(): Promise<void> {
    this.writing = true;
    let sliceStartMs = performance.now();
    try {
      while (this.queue.length > 0) {
        // Without an fsync, a group completes in microtasks, and busy writers
        // would keep the loop in microtasks forever, starving the I/O callbacks
        // that flushes need. Yield to the event loop every WRITER_SLICE_MS.
        if (performance.now() - sliceStartMs > WRITER_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStartMs = performance.now();
        }
        const head = this.queue[0]!;
        if (LsmDatabase.isSwitch(head)) {
          this.queue.shift();
          try {
            await this.switchMemtable();
            head.resolve();
          } catch (error) {
            head.reject(error);
          }
          continue;
        }
        try {
          await this.makeRoomForWrite();
        } catch (error) {
          this.rejectQueuedWrites(error);
          continue;
        }
        await this.writeGroup();
      }
    } finally {
      this.writing = false;
      const waiters = this.writerIdle;
      this.writerIdle = [];
      for (const wake of waiters) wake();
    }
  }

  /** Takes the queued batches (up to MAX_GROUP_COMMIT_BYTES) and commits them with one log write. */
  private async writeGroup(): Promise<void> {
    let count = 0;
    let sizeBytes = 0;
    const first = this.queue[0]!.sizeBytes;
    const maxGroupBytes =
      first <= SMALL_GROUP_EXTRA_BYTES ? first + SMALL_GROUP_EXTRA_BYTES : MAX_GROUP_COMMIT_BYTES;
    while (count < this.queue.length) {
      const request = this.queue[count]!;
      if (LsmDatabase.isSwitch(request)) break;
      if (count > 0 && sizeBytes + request.sizeBytes > maxGroupBytes) break;
      sizeBytes += request.sizeBytes;
      count++;
    }
    const group = this.queue.splice(0, count);
    try {
      await this.commitGroup(group, sizeBytes);
    } catch (error) {
      // commitGroup handles I/O errors itself; anything else is a bug: fail loudly, never hang writers.
      const failure = this.setBackgroundError("write path failed", error);
      for (const request of group) request.reject(failure);
    }
  }

  private async commitGroup(group: WriteRequest[], sizeBytes: number): Promise<void> {
    // One buffer per group: the memtable keeps views into it, so it is never reused.
    const buffer = Buffer.allocUnsafe(sizeBytes);
    let seq = this.lastSeq + 1;
    let offset = 0;
    let userBytes = 0;
    for (const request of group) {
      const batch = request.batch;
      if (batch !== null) {
        offset = encodeBatchRecord(buffer, offset, batch, seq);
        seq += batch.count;
        userBytes += batch.sizeBytes;
      } else {
        const key = request.key!;
        offset = encodeSingleRecord(buffer, offset, request.type, key, request.value, seq);
        seq += 1;
        userBytes += key.length + request.value.length;
      }
    }
    if (seq - 1 > MAX_SEQUENCE) {
      const error = new LsmError(LsmErrorCode.BACKGROUND, "sequence numbers exhausted (48-bit)");
      for (const request of group) request.reject(error);
      return;
    }
    try {
      await this.log!.append(buffer, sizeBytes, this.options.syncPolicy === "always");
    } catch (error) {
      // The log's tail is now unknown: refuse further writes rather than risk a gap.
      const failure = this.setBackgroundError("commit log write failed", error);
      for (const request of group) request.reject(failure);
      return;
    }
    offset = 0;
    while (offset < sizeBytes) {
      const length = buffer.readUInt32LE(offset + 4);
      const start = offset + LOG_HEADER_BYTES;
      applyBatchPayload(buffer.subarray(start, start + length), this.mem);
      offset = start + length;
    }
    this.lastSeq = seq - 1;
    this.counters.logBytesWritten += sizeBytes;
    this.counters.userBytesWritten += userBytes;
    for (const request of group) request.resolve();
  }

  private rejectQueuedWrites(error: unknown): void {
    const queued = this.queue.splice(0, this.queue.length);
    for (const request of queued) request.reject(error);
  }

  /**
   * Waits until the memtable has room. Writers are slowed (one short delay per
   * group) once L0 reaches L0_SLOWDOWN_WRITES_TRIGGER tables, and stopped when a
   * full memtable cannot be switched (the previous one is still flushing) or L0
   * reaches L0_STOP_WRITES_TRIGGER.
   */
  private async makeRoomForWrite(): Promise<void> {
    let allowDelay = true;
    for (;;) {
      if (this.backgroundError !== null) throw this.backgroundError;
      if (this.closed) throw this.closedError();
      const l0Tables = this.version.levels[0]!.length;
      if (allowDelay && l0Tables >= L0_SLOWDOWN_WRITES_TRIGGER) {
        allowDelay = false;
        this.counters.slowdowns++;
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, WRITE_SLOWDOWN_DELAY_MS));
        this.counters.stallMs += performance.now() - start;
        continue;
      }
      if (this.memtableHasRoom()) return;
      if (this.imms.length >= MAX_IMMUTABLE_MEMTABLES || l0Tables >= L0_STOP_WRITES_TRIGGER) {
        this.counters.stops++;
        const start = performance.now();
        this.scheduleBackgroundWork();
        await this.waitForBackground();
        this.counters.stallMs += performance.now() - start;
        continue;
      }
      await this.switchMemtable();
      return;
    }
  }

  /**
   * Whether the current memtable takes more writes. A full one made mostly
   * of values overwritten in place compacts its values instead (no flush),
   * while its log stays within MAX_LOG_MEMTABLE_SIZES memtable sizes.
   */
  private memtableHasRoom(): boolean {
    const mem = this.mem;
    const limit = this.options.memtableSizeBytes;
    if (mem.approximateSizeBytes < limit) return true;
    if (
      mem.liveSizeBytes <= limit * MEMTABLE_COMPACT_LIVE_SHARE &&
      this.log !== null &&
      this.log.sizeBytes < limit * MAX_LOG_MEMTABLE_SIZES
    ) {
      mem.compactValues();
      this.counters.memtableCompactions++;
      return true;
    }
    return false;
  }

  /** Makes the memtable immutable, starts a new log, schedules the flush. Runs inside the writer. */
  private async switchMemtable(): Promise<void> {
    while (this.imms.length >= MAX_IMMUTABLE_MEMTABLES) {
      if (this.backgroundError !== null) throw this.backgroundError;
      this.scheduleBackgroundWork();
      await this.waitForBackground();
    }
    if (this.mem.entryCount === 0) return;
    const number = this.nextFileNumber++;
    const next = await LogWriter.create(filePath(this.dir, logFileName(number)), number);
    const previous = this.log!;
    this.log = next;
    this.imms.push(this.mem);
    this.mem = new Memtable(number);
    this.mem.overwriteInPlace = this.openReaders === 0;
    // The old log must be durable per policy until its memtable reaches a table.
    await previous.close(this.options.syncPolicy !== "never");
    this.scheduleBackgroundWork();
  }

  // -------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------

  get(key: Uint8Array, options?: ReadOptions): Promise<Uint8Array | undefined> {
    let found: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      found = this.lookup(key, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (found instanceof Promise) {
      return found.then((value) => (value === undefined ? undefined : Buffer.from(value)));
    }
    return Promise.resolve(found === undefined ? undefined : Buffer.from(found));
  }

  /**
   * `get` without the promise when no I/O is needed: answers synchronously
   * from the memtables and cached blocks, and returns a promise only when a
   * table block must be read. The value is a view into the engine's memory
   * (a log chunk or a cached block): read it, copy it to keep it, never
   * write to it. Throws (synchronously) on a closed database or a bad key.
   */
  lookup(
    key: Uint8Array,
    options?: ReadOptions,
  ): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    this.checkOpen();
    const userKey = checkKey(key);
    const seq = this.readSequence(options?.snapshot);
    const found = this.lookupInMemtables(userKey, seq);
    if (found !== undefined) return found === TOMBSTONE ? undefined : found;
    const version = this.pin();
    let pending: Lookup | Promise<Lookup>;
    try {
      pending = this.lookupTables(version, userKey, seq, bloomHash(userKey), 0, 0);
    } catch (error) {
      this.unpin(version);
      throw error;
    }
    if (!(pending instanceof Promise)) {
      this.unpin(version);
      return pending === undefined || pending === TOMBSTONE ? undefined : pending;
    }
    return pending.then(
      (result) => {
        this.unpin(version);
        return result === undefined || result === TOMBSTONE ? undefined : result;
      },
      (error: unknown) => {
        this.unpin(version);
        throw error;
      },
    );
  }

  lookupMemtables(key: Uint8Array): Uint8Array | null | undefined {
    this.checkOpen();
    const found = this.lookupInMemtables(checkKey(key), this.lastSeq);
    return found === TOMBSTONE ? null : found;
  }

  /** The current memtable, then the immutable ones newest first: the first that knows `key` answers. */
  private lookupInMemtables(userKey: Buffer, seq: number): Lookup {
    // One hash of the key for every memtable asked.
    const hash = hashBytes(userKey, 0, userKey.length);
    let found: Lookup = lookupMemtable(this.mem, userKey, seq, hash);
    for (let i = this.imms.length - 1; found === undefined && i >= 0; i--) {
      found = lookupMemtable(this.imms[i]!, userKey, seq, hash);
    }
    return found;
  }

  /**
   * Probes the tables that may hold `key`, newest first: L0 tables from
   * `l0Index` on (when `level` is 0), then one table per deeper level. Stays
   * synchronous while blocks come from the cache; on the first read that needs
   * I/O it returns a promise that resumes the search after it.
   */
  private lookupTables(
    version: Version,
    key: Buffer,
    seq: number,
    hash: number,
    level: number,
    l0Index: number,
  ): Lookup | Promise<Lookup> {
    if (level === 0) {
      const l0 = version.levels[0]!;
      for (let i = l0Index; i < l0.length; i++) {
        const table = l0[i]!;
        if (compareKeys(key, table.smallestKey) < 0 || compareKeys(key, table.largestKey) > 0)
          continue;
        const result = this.probe(table, key, seq, hash);
        if (result instanceof Promise) {
          return result.then((found) =>
            found !== undefined ? found : this.lookupTables(version, key, seq, hash, 0, i + 1),
          );
        }
        if (result !== undefined) return result;
      }
      level = 1;
    }
    for (; level < NUM_LEVELS; level++) {
      const tables = version.levels[level]!;
      if (tables.length === 0) continue;
      const index = version.findTable(level, key);
      if (index >= tables.length) continue;
      const table = tables[index]!;
      if (compareKeys(key, table.smallestKey) < 0) continue;
      const result = this.probe(table, key, seq, hash);
      if (result instanceof Promise) {
        const next = level + 1;
        return result.then((found) =>
          found !== undefined ? found : this.lookupTables(version, key, seq, hash, next, 0),
        );
      }
      if (result !== undefined) return result;
    }
    return undefined;
  }

  private probe(
    table: TableMeta,
    key: Buffer,
    seq: number,
    hash: number,
  ): Lookup | Promise<Lookup> {
    const reader = this.tableCache.get(table);
    if (reader instanceof Promise) return reader.then((opened) => opened.get(key, seq, hash));
    return reader.get(key, seq, hash);
  }

  iterator(options: IteratorOptions = {}): AsyncIterableIterator<[Uint8Array, Uint8Array]> {
    this.checkOpen();
    const seq = this.readSequence(options.snapshot);
    const bounds = iteratorBounds(options);
    const reverse = options.reverse === true;
    const limit =
      options.limit === undefined || options.limit < 0 ? Number.POSITIVE_INFINITY : options.limit;
    // Pin what the iterator reads now, so later flushes and compactions cannot remove it.
    const version = this.pin();
    const children: InternalIterator[] = [this.mem.iterator()];
    for (const imm of this.imms) children.push(imm.iterator());
    for (const table of version.levels[0]!)
      children.push(new LazyTableIterator(this.tableCache, table));
    for (let level = 1; level < NUM_LEVELS; level++) {
      const tables = version.levels[level]!;
      if (tables.length > 0) children.push(new LevelIterator(tables, this.tableCache, "cached"));
    }
    const merged = new MergingIterator(children, reverse);
    this.readerOpened();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      merged.close();
      this.unpin(version);
      this.readerClosed();
    };
    return reverse
      ? iterateReverse(merged, seq, bounds, limit, release)
      : iterateForward(merged, seq, bounds, limit, release);
  }

  snapshot(): Snapshot {
    this.checkOpen();
    const seq = this.lastSeq;
    this.snapshots.set(seq, (this.snapshots.get(seq) ?? 0) + 1);
    this.readerOpened();
    return new SnapshotHandle(seq, this, (snapshot) => {
      const count = this.snapshots.get(snapshot.sequence) ?? 0;
      if (count <= 1) this.snapshots.delete(snapshot.sequence);
      else this.snapshots.set(snapshot.sequence, count - 1);
      this.readerClosed();
    });
  }

  /**
   * Open snapshots and iterators: while there are none, nobody can read an
   * older version than the newest, so the current memtable overwrites in
   * place (Memtable.overwriteInPlace). An iterator counts from its creation
   * until it finishes or is returned (an iterator never started holds it).
   */
  private openReaders = 0;

  private readerOpened(): void {
    this.openReaders++;
    this.mem.overwriteInPlace = false;
  }

  private readerClosed(): void {
    this.openReaders--;
    this.mem.overwriteInPlace = this.openReaders === 0;
  }

  private readSequence(snapshot: Snapshot | undefined): number {
    if (snapshot === undefined) return this.lastSeq;
    if (!(snapshot instanceof SnapshotHandle) || snapshot.released || snapshot.owner !== this) {
      throw new LsmError(
        LsmErrorCode.SNAPSHOT_RELEASED,
        "snapshot was released or does not belong to this database",
      );
    }
    return snapshot.sequence;
  }

  private smallestSnapshot(): number {
    let smallest = this.lastSeq;
    for (const seq of this.snapshots.keys()) if (seq < smallest) smallest = seq;
    return smallest;
  }

  // -------------------------------------------------------------------------
  // Flush, compaction, background scheduling
  // -------------------------------------------------------------------------

  async flush(): Promise<void> {
    await this.enqueue(null, 0, null, NO_VALUE);
    while (this.imms.length > 0) {
      if (this.backgroundError !== null) throw this.backgroundError;
      await this.waitForBackground();
    }
  }

  async compact(): Promise<void> {
    await this.flush();
    this.manualCompaction = true;
    try {
      while (this.compacting !== null) await this.compacting;
      for (;;) {
        this.checkOpen();
        if (this.backgroundError !== null) throw this.backgroundError;
        // Push every level down into the deepest non-empty level, one level at a time.
        let deepest = 0;
        for (let level = 0; level < NUM_LEVELS; level++) {
          if (this.version.levels[level]!.length > 0) deepest = level;
        }
        let moved = false;
        for (let level = 0; level < Math.max(deepest, 1); level++) {
          const tables = this.version.levels[level]!;
          if (tables.length === 0) continue;
          const [smallest, largest] = keyRange(tables);
          const pick: CompactionPick = {
            level,
            inputs: [...tables],
            nextInputs: this.version.overlapping(level + 1, smallest, largest),
          };
          // Tracked like a background compaction so close() waits for (and cancels) it.
          const run = this.runCompaction(pick, true);
          this.compacting = run;
          try {
            await run;
          } finally {
            this.compacting = null;
          }
          if (this.backgroundError !== null) throw this.backgroundError;
          moved = true;
          break;
        }
        if (!moved) break;
      }
    } finally {
      this.manualCompaction = false;
      this.scheduleBackgroundWork();
    }
  }

  private scheduleBackgroundWork(): void {
    if (this.closing || this.backgroundError !== null) return;
    if (this.imms.length > 0 && this.flushing === null) {
      this.flushing = this.runFlush().finally(() => {
        this.flushing = null;
        this.notifyBackground();
        this.scheduleBackgroundWork();
      });
    }
    if (this.compacting === null && !this.manualCompaction) {
      const pick = pickCompaction(this.version, this.compactPointers);
      if (pick !== null) {
        this.compacting = this.runCompaction(pick, false).finally(() => {
          this.compacting = null;
          this.notifyBackground();
          this.scheduleBackgroundWork();
        });
      }
    }
  }

  private waitForBackground(): Promise<void> {
    return new Promise((resolve) => this.backgroundWaiters.push(resolve));
  }

  private notifyBackground(): void {
    const waiters = this.backgroundWaiters;
    this.backgroundWaiters = [];
    for (const wake of waiters) wake();
  }

  private async runFlush(): Promise<void> {
    const imm = this.imms[0];
    if (imm === undefined) return;
    try {
      const it = imm.iterator();
      it.seekToFirst();
      const tables = await writeSortedRun(it, {
        newTable: () => this.newTableBuilder(),
        smallestSnapshot: this.smallestSnapshot(),
        // A flushed tombstone may hide values in any table below: always keep it.
        canDropTombstone: () => false,
        splitOutput: false,
        shouldStop: () => false,
        // Before the memtable leaves `imms`: it shadows whatever the listener caches until then.
        onNewestEntry: this.options.onFlushEntry,
      });
      // Logs older than the oldest memtable still unflushed are now redundant.
      await this.applyEdit(
        new Set(),
        tables.map((table) => ({ level: 0, table })),
        (this.imms[1] ?? this.mem).logNumber,
      );
      this.imms.shift();
      this.counters.flushCount++;
      for (const table of tables) this.counters.flushBytesWritten += table.sizeBytes;
      await this.deleteObsoleteFiles();
    } catch (error) {
      this.setBackgroundError("memtable flush failed", error);
    }
  }

  private async runCompaction(pick: CompactionPick, manual: boolean): Promise<void> {
    const outputLevel = pick.level + 1;
    const removed = new Set<number>();
    for (const table of pick.inputs) removed.add(table.number);
    for (const table of pick.nextInputs) removed.add(table.number);
    try {
      const [, largest] = keyRange(pick.inputs);
      this.compactPointers[pick.level] = largest;
      if (pick.inputs.length === 1 && pick.nextInputs.length === 0) {
        // Trivial move: nothing below overlaps, the table changes level without a rewrite.
        await this.applyEdit(removed, [{ level: outputLevel, table: pick.inputs[0]! }]);
        return;
      }
      // Reserve the output file numbers here: the thread must not allocate from shared state.
      const fileNumbers: number[] = [];
      for (let i = outputFileBudget(pick, TARGET_TABLE_SIZE_BYTES); i > 0; i--) {
        const number = this.nextFileNumber++;
        this.pendingOutputs.add(number);
        fileNumbers.push(number);
      }
      const version = this.pin();
      let tables: TableMeta[];
      try {
        this.compactionJobId = compactionThread.peekNextId();
        tables = await compactionThread.run({
          dir: this.dir,
          pick,
          deeperLevels: version.levels.slice(outputLevel + 1).map((level) => [...level]),
          smallestSnapshot: this.smallestSnapshot(),
          fileNumbers,
          blockSizeBytes: this.options.blockSizeBytes,
          bloomBitsPerKey: this.options.bloomBitsPerKey,
          rateBytesPerSecond: this.options.compactionRateBytesPerSecond,
        });
      } catch (error) {
        for (const number of fileNumbers) this.pendingOutputs.delete(number);
        throw error;
      } finally {
        this.compactionJobId = null;
        this.unpin(version);
      }
      // Reserved numbers the job did not use are released; its outputs stay pending until installed.
      const used = new Set(tables.map((t) => t.number));
      for (const number of fileNumbers) if (!used.has(number)) this.pendingOutputs.delete(number);
      await this.applyEdit(
        removed,
        tables.map((table) => ({ level: outputLevel, table })),
      );
      this.counters.compactionCount++;
      for (const table of pick.inputs) this.counters.compactionBytesRead += table.sizeBytes;
      for (const table of pick.nextInputs) this.counters.compactionBytesRead += table.sizeBytes;
      for (const table of tables) this.counters.compactionBytesWritten += table.sizeBytes;
      await this.deleteObsoleteFiles();
    } catch (error) {
      // Closing terminates the compaction thread: its job was abandoned, not failed.
      if (this.closing) return;
      this.setBackgroundError(manual ? "manual compaction failed" : "compaction failed", error);
    }
  }

  private async newTableBuilder(): Promise<TableBuilder> {
    const number = this.nextFileNumber++;
    this.pendingOutputs.add(number);
    return TableBuilder.create(filePath(this.dir, tableFileName(number)), number, {
      blockSizeBytes: this.options.blockSizeBytes,
      bloomBitsPerKey: this.options.bloomBitsPerKey,
    });
  }

  /**
   * Installs a new version: writes a complete manifest naming it, then swaps
   * it in. Serialized, so concurrent flush and compaction edits compose.
   */
  private applyEdit(
    removed: ReadonlySet<number>,
    added: readonly { level: number; table: TableMeta }[],
    logNumber?: number,
  ): Promise<void> {
    const run = async () => {
      const next = this.version.apply(removed, added);
      const manifestNumber = this.nextFileNumber++;
      const newLogNumber = logNumber ?? this.logNumber;
      await writeManifest(this.dir, manifestNumber, {
        nextFileNumber: this.nextFileNumber,
        lastSequence: this.lastSeq,
        logNumber: newLogNumber,
        levels: next.levels,
      });
      this.manifestNumber = manifestNumber;
      this.logNumber = newLogNumber;
      const previous = this.version;
      if (previous.refs > 0) this.pinnedVersions.add(previous);
      this.version = next;
      for (const { table } of added) this.pendingOutputs.delete(table.number);
    };
    const result = this.manifestChain.then(run);
    this.manifestChain = result.catch(() => undefined);
    return result;
  }

  /**
   * Pins the current version for a read or an iterator. Only versions that
   * stop being current while pinned enter `pinnedVersions` (applyEdit moves
   * them there), so a point read costs two counter updates.
   */
  private pin(): Version {
    const version = this.version;
    version.refs++;
    return version;
  }

  private unpin(version: Version): void {
    version.refs--;
    if (
      version.refs === 0 &&
      version !== this.version &&
      this.pinnedVersions.delete(version) &&
      !this.closed
    ) {
      // The last reader of an old version left: its tables may now be deletable.
      this.deleteObsoleteFiles().catch((error: unknown) => {
        this.options.logger.warn({ err: String(error) }, "deleting obsolete files failed");
      });
    }
  }

  /** Deletes tables no version uses, logs older than every live memtable, old manifests and temp files. */
  private async deleteObsoleteFiles(): Promise<void> {
    const names = await readdir(this.dir);
    // Decide from one synchronous look at the state taken after readdir: a table
    // still being written is pending here, and once installed it is live, so no
    // file that readdir saw can move between "pending" and "live" unnoticed.
    const keep = new Set<number>(this.pendingOutputs);
    for (const version of [this.version, ...this.pinnedVersions]) {
      for (const tables of version.levels) for (const table of tables) keep.add(table.number);
    }
    let oldestLiveLog = this.mem.logNumber;
    const oldestImm = this.imms[0];
    if (oldestImm !== undefined && oldestImm.logNumber < oldestLiveLog)
      oldestLiveLog = oldestImm.logNumber;
    if (this.logNumber < oldestLiveLog) oldestLiveLog = this.logNumber;
    const manifestNumber = this.manifestNumber;
    for (const name of names) {
      const parsed = parseFileName(name);
      if (parsed === null) continue;
      let obsolete = false;
      switch (parsed.kind) {
        case "table":
          obsolete = !keep.has(parsed.number);
          break;
        case "log":
          obsolete = parsed.number < oldestLiveLog;
          break;
        case "manifest":
          obsolete = parsed.number < manifestNumber;
          break;
        case "temp":
          obsolete = true;
          break;
        default:
          obsolete = false;
      }
      if (!obsolete) continue;
      if (parsed.kind === "table") await this.tableCache.evict(parsed.number);
      await unlink(filePath(this.dir, name)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      });
    }
  }

  private setBackgroundError(what: string, cause: unknown): LsmError {
    if (this.backgroundError === null) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      this.backgroundError =
        cause instanceof LsmError && cause.code === LsmErrorCode.CORRUPTION
          ? cause
          : new LsmError(
              LsmErrorCode.BACKGROUND,
              `${what}: ${detail}; writes are refused until reopen`,
              {
                cause,
              },
            );
      this.options.logger.warn(
        { err: detail, dir: this.dir },
        `${what}; the database is now read-only`,
      );
    }
    this.notifyBackground();
    return this.backgroundError;
  }

  // -------------------------------------------------------------------------
  // Stats, close
  // -------------------------------------------------------------------------

  stats(): EngineStats {
    const c = this.counters;
    const cache = this.tableCache.blockCache;
    const lookups = cache.hits + cache.misses;
    const written = c.logBytesWritten + c.flushBytesWritten + c.compactionBytesWritten;
    return {
      levels: this.version.levels.map((tables, level) => ({
        level,
        tables: tables.length,
        sizeBytes: tables.reduce((sum, t) => sum + t.sizeBytes, 0),
      })),
      memtableSizeBytes: this.mem.approximateSizeBytes,
      immutableMemtables: this.imms.length,
      lastSequence: this.lastSeq,
      bloom: {
        useful: c.bloomUseful,
        falsePositive: c.bloomFalsePositive,
        truePositive: c.bloomTruePositive,
      },
      blockCache: {
        hits: cache.hits,
        misses: cache.misses,
        hitRate: lookups === 0 ? 0 : cache.hits / lookups,
        sizeBytes: cache.sizeBytes,
        capacityBytes: cache.capacityBytes,
      },
      writeStalls: { slowdowns: c.slowdowns, stops: c.stops, stallMs: Math.round(c.stallMs) },
      flush: { count: c.flushCount, bytesWritten: c.flushBytesWritten },
      memtableCompactions: c.memtableCompactions,
      compaction: {
        count: c.compactionCount,
        bytesRead: c.compactionBytesRead,
        bytesWritten: c.compactionBytesWritten,
      },
      userBytesWritten: c.userBytesWritten,
      logBytesWritten: c.logBytesWritten,
      writeAmplification: c.userBytesWritten === 0 ? 0 : written / c.userBytesWritten,
      backgroundError: this.backgroundError?.message ?? null,
    };
  }

  close(): Promise<void> {
    // Every call (also concurrent ones) resolves when the one close has finished.
    this.closePromise ??= this.shutDown();
    return this.closePromise;
  }

  private async shutDown(): Promise<void> {
    // Refuse new writes at once, but let queued ones finish: they were accepted before close().
    this.closeStarted = true;
    while (this.writing) await new Promise<void>((resolve) => this.writerIdle.push(resolve));
    this.closed = true;
    this.closing = true;
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.notifyBackground();
    if (this.compactionJobId !== null) compactionThread.cancel(this.compactionJobId);
    await this.flushing?.catch(() => undefined);
    await this.compacting?.catch(() => undefined);
    await this.manifestChain;
    await this.log?.close(this.options.syncPolicy !== "never").catch(() => undefined);
    await this.tableCache.closeAll();
    await this.lock.release();
  }

  private checkOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): LsmError {
    return new LsmError(LsmErrorCode.CLOSED, `database ${this.dir} is closed`);
  }
}

function lookupMemtable(memtable: Memtable, key: Buffer, seq: number, hash: number): Lookup {
  const found = memtable.lookup(key, seq, hash);
  return found === null ? TOMBSTONE : found;
}
