/**
 * Appends encoded records to a commit log file. One `append` is one write(2)
 * at the tracked end position (group commit hands it many records at once);
 * `sync` is fdatasync. The writer never rewrites earlier bytes.
 *
 * The write(2) itself is synchronous, as in LevelDB's writer thread: an append
 * lands in the page cache in microseconds, and a thread-pool round trip per
 * group would cost more than the copy and leave writers idle. The fdatasync
 * (policy "always", or the everysec timer) goes through the thread pool, so
 * the event loop keeps running while the disk flushes, and writers arriving
 * meanwhile form the next group.
 *
 * Buffered records (the engine's `putBuffered` path, policies "everysec" and
 * "never"): `reserve` hands out space in a pending chunk, the caller encodes
 * a record there, and `writePending` writes everything pending with one
 * write(2). Every other operation (`append`, `sync`, `close`) writes the
 * pending bytes first, so the file always holds records in the order they
 * were reserved. A chunk's bytes are never reused once reserved: memtables
 * keep views into them.
 */
import { writeSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/** Size of a pending chunk (a record larger than this gets a chunk of its own). */
const PENDING_CHUNK_BYTES = 256 * 1024;

export class LogWriter {
  private positionBytes = 0;
  /** True when bytes were written since the last sync (the everysec timer checks it). */
  dirty = false;
  private closed = false;
  /** Chunk that `reserve` carves records from; bytes [pendingStart, pendingEnd) are not written yet. */
  pendingChunk: Buffer = Buffer.alloc(0);
  private pendingStart = 0;
  private pendingEnd = 0;
  /** Earlier chunks (exact slices) whose bytes are not written yet, in order. */
  private pendingFull: Buffer[] = [];

  private constructor(
    readonly path: string,
    readonly number: number,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string, number: number): Promise<LogWriter> {
    const handle = await open(path, "wx");
    return new LogWriter(path, number, handle);
  }

  /** Bytes written to the file, plus bytes reserved and not yet written. */
  get sizeBytes(): number {
    return this.positionBytes + this.pendingBytes;
  }

  get pendingBytes(): number {
    let bytes = this.pendingEnd - this.pendingStart;
    for (const chunk of this.pendingFull) bytes += chunk.length;
    return bytes;
  }

  /**
   * Reserves `length` bytes for one record in `pendingChunk` and returns the
   * offset to encode it at. The bytes are written by the next `writePending`
   * (or any other write, sync or close).
   */
  reserve(length: number): number {
    if (this.pendingChunk.length - this.pendingEnd < length) {
      if (this.pendingEnd > this.pendingStart) {
        this.pendingFull.push(this.pendingChunk.subarray(this.pendingStart, this.pendingEnd));
      }
      this.pendingChunk = Buffer.allocUnsafeSlow(Math.max(PENDING_CHUNK_BYTES, length));
      this.pendingStart = 0;
      this.pendingEnd = 0;
    }
    const offset = this.pendingEnd;
    this.pendingEnd += length;
    return offset;
  }

  /** Writes every reserved record to the file (write(2), no fsync). */
  writePending(): void {
    if (this.pendingFull.length > 0) {
      const full = this.pendingFull;
      this.pendingFull = [];
      for (const chunk of full) this.writeAll(chunk, chunk.length);
    }
    if (this.pendingEnd > this.pendingStart) {
      const start = this.pendingStart;
      this.pendingStart = this.pendingEnd;
      this.writeAll(this.pendingChunk.subarray(start, this.pendingEnd), this.pendingEnd - start);
    }
  }

  private writeAll(data: Buffer, length: number): void {
    let written = 0;
    while (written < length) {
      written += writeSync(
        this.handle.fd,
        data,
        written,
        length - written,
        this.positionBytes + written,
      );
    }
    this.positionBytes += length;
    this.dirty = true;
  }

  async append(data: Buffer, length: number, sync: boolean): Promise<void> {
    this.writePending();
    this.writeAll(data, length);
    if (sync) {
      await this.handle.datasync();
      this.dirty = false;
    }
  }

  async sync(): Promise<void> {
    if (this.closed) return;
    this.writePending();
    if (!this.dirty) return;
    this.dirty = false;
    await this.handle.datasync();
  }

  async close(sync: boolean): Promise<void> {
    if (this.closed) return;
    this.writePending();
    if (sync && this.dirty) await this.handle.datasync();
    this.closed = true;
    await this.handle.close();
  }
}
