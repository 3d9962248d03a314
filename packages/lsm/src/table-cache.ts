/**
 * Open table readers by file number. A reader (file handle, index, filter) is
 * opened on first use and kept until its table is deleted; concurrent first
 * uses share one open. The engine keeps one file handle per live table.
 */
import { BlockCache } from "./block-cache.js";
import { filePath, tableFileName } from "./filenames.js";
import type { Counters } from "./stats.js";
import { type ReadMode, TableReader } from "./table-reader.js";
import type { TableMeta } from "./version.js";

export class TableCache {
  private readonly readers = new Map<number, TableReader | Promise<TableReader>>();
  readonly blockCache: BlockCache;

  constructor(
    private readonly dir: string,
    blockCacheSizeBytes: number,
    private readonly counters: Counters,
    private readonly readMode: ReadMode,
  ) {
    this.blockCache = new BlockCache(blockCacheSizeBytes);
  }

  get(table: TableMeta): TableReader | Promise<TableReader> {
    const existing = this.readers.get(table.number);
    if (existing !== undefined) return existing;
    const opening = TableReader.open(
      filePath(this.dir, tableFileName(table.number)),
      table.number,
      table.sizeBytes,
      this.blockCache,
      this.counters,
      this.readMode,
    ).then(
      (reader) => {
        this.readers.set(table.number, reader);
        return reader;
      },
      (error: unknown) => {
        this.readers.delete(table.number);
        throw error;
      },
    );
    this.readers.set(table.number, opening);
    return opening;
  }

  /** Closes the reader of a deleted table (if open) and drops its cached blocks. */
  async evict(number: number): Promise<void> {
    const reader = this.readers.get(number);
    if (reader === undefined) return;
    this.readers.delete(number);
    const opened = await Promise.resolve(reader).catch(() => null);
    await opened?.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const numbers = [...this.readers.keys()];
    for (const number of numbers) await this.evict(number);
  }
}
