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
 */
import { writeSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

export class LogWriter {
  private positionBytes = 0;
  /** True when bytes were written since the last sync (the everysec timer checks it). */
  dirty = false;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly number: number,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string, number: number): Promise<LogWriter> {
    const handle = await open(path, "wx");
    return new LogWriter(path, number, handle);
  }

  get sizeBytes(): number {
    return this.positionBytes;
  }

  async append(data: Buffer, length: number, sync: boolean): Promise<void> {
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
    if (sync) {
      await this.handle.datasync();
      this.dirty = false;
    } else {
      this.dirty = true;
    }
  }

  async sync(): Promise<void> {
    if (this.closed || !this.dirty) return;
    this.dirty = false;
    await this.handle.datasync();
  }

  async close(sync: boolean): Promise<void> {
    if (this.closed) return;
    if (sync && this.dirty) await this.handle.datasync();
    this.closed = true;
    await this.handle.close();
  }
}
