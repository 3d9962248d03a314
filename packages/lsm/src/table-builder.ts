/**
 * Writes one table file (layout in table-format.ts) from entries added in
 * increasing internal-key order. Output goes through a TABLE_WRITE_BUFFER_BYTES
 * buffer (one write(2) per buffer) and, for compaction, a rate limiter. The
 * file is fsynced before `finish` resolves, so a manifest can name it.
 */
import { type FileHandle, open, unlink } from "node:fs/promises";
import { BlockBuilder } from "./block-builder.js";
import { bloomHash, buildBloomFilter } from "./bloom.js";
import { putVarint32 } from "./coding.js";
import {
  BLOCK_COMPRESSION_NONE,
  BLOCK_RESTART_INTERVAL,
  BLOCK_TRAILER_BYTES,
  MAX_TABLE_SIZE_BYTES,
  TABLE_FOOTER_BYTES,
  TABLE_FORMAT_VERSION,
  TABLE_MAGIC,
  TABLE_WRITE_BUFFER_BYTES,
} from "./constants.js";
import { maskedCrc32c } from "./crc32c.js";
import { compareKeys } from "./internal-key.js";
import type { RateLimiter } from "./rate-limiter.js";
import { FOOTER_CRC_OFFSET, FOOTER_MAGIC_OFFSET, writeU64 } from "./table-format.js";
import type { TableMeta } from "./version.js";

export interface TableBuilderOptions {
  blockSizeBytes: number;
  bloomBitsPerKey: number;
  rateLimiter?: RateLimiter;
}

export class TableBuilder {
  private readonly data: BlockBuilder;
  private readonly index = new BlockBuilder(1, 4096);
  private output = Buffer.allocUnsafe(TABLE_WRITE_BUFFER_BYTES);
  private outputLength = 0;
  private fileOffset = 0;
  private hashes = new Uint32Array(1024);
  private hashCount = 0;
  private lastHashedKey: Buffer | null = null;
  private lastKey: Buffer | null = null;
  private lastSeq = 0;
  private lastType = 0;
  private smallestKey: Buffer | null = null;
  private smallestSeq = 0;
  private largestSeqSeen = 0;
  private smallestSeqSeen = Number.MAX_SAFE_INTEGER;
  entryCount = 0;

  private constructor(
    readonly path: string,
    readonly number: number,
    private readonly handle: FileHandle,
    private readonly options: TableBuilderOptions,
  ) {
    this.data = new BlockBuilder(BLOCK_RESTART_INTERVAL, options.blockSizeBytes * 2);
  }

  static async create(
    path: string,
    number: number,
    options: TableBuilderOptions,
  ): Promise<TableBuilder> {
    const handle = await open(path, "wx");
    return new TableBuilder(path, number, handle, options);
  }

  /** Bytes the file will have so far (written plus buffered plus the open block). */
  get estimatedSizeBytes(): number {
    return this.fileOffset + this.outputLength + this.data.estimatedSizeBytes();
  }

  /**
   * Adds one entry. Returns a promise only when a buffer had to be written to
   * the file; callers `await` the result either way.
   */
  add(key: Buffer, seq: number, type: number, value: Buffer): Promise<void> | undefined {
    if (this.smallestKey === null) {
      this.smallestKey = Buffer.from(key);
      this.smallestSeq = seq;
    }
    if (this.lastHashedKey === null || compareKeys(this.lastHashedKey, key) !== 0) {
      if (this.hashCount === this.hashes.length) {
        const grown = new Uint32Array(this.hashes.length * 2);
        grown.set(this.hashes);
        this.hashes = grown;
      }
      this.hashes[this.hashCount++] = bloomHash(key);
      this.lastHashedKey = key;
    }
    this.data.add(key, seq, type, value);
    this.lastKey = key;
    this.lastSeq = seq;
    this.lastType = type;
    if (seq > this.largestSeqSeen) this.largestSeqSeen = seq;
    if (seq < this.smallestSeqSeen) this.smallestSeqSeen = seq;
    this.entryCount++;
    if (this.data.estimatedSizeBytes() >= this.options.blockSizeBytes) {
      this.finishDataBlock();
      if (this.outputLength >= TABLE_WRITE_BUFFER_BYTES) return this.drain();
    }
    return undefined;
  }

  /** Writes the remaining blocks, the filter, index and footer; fsyncs and closes the file. */
  async finish(): Promise<TableMeta> {
    if (this.lastKey === null || this.smallestKey === null) {
      throw new Error("TableBuilder.finish on an empty table");
    }
    const largestKey = Buffer.from(this.lastKey);
    this.finishDataBlock();
    const filter = buildBloomFilter(this.hashes, this.hashCount, this.options.bloomBitsPerKey);
    const filterOffset = this.fileOffset + this.outputLength;
    this.appendBlock(filter);
    const indexOffset = this.fileOffset + this.outputLength;
    const indexBlock = this.index.finish();
    this.appendBlock(indexBlock);

    const footer = Buffer.alloc(TABLE_FOOTER_BYTES);
    writeU64(footer, filterOffset, 0);
    footer.writeUInt32LE(filter.length, 8);
    writeU64(footer, indexOffset, 12);
    footer.writeUInt32LE(indexBlock.length, 20);
    writeU64(footer, this.entryCount, 24);
    footer.writeUInt32LE(TABLE_FORMAT_VERSION, 32);
    footer.writeUInt32LE(maskedCrc32c(footer.subarray(0, FOOTER_CRC_OFFSET)), FOOTER_CRC_OFFSET);
    TABLE_MAGIC.copy(footer, FOOTER_MAGIC_OFFSET);
    this.appendRaw(footer);
    await this.drain();
    await this.handle.sync();
    await this.handle.close();
    return {
      number: this.number,
      sizeBytes: this.fileOffset,
      smallestKey: this.smallestKey,
      smallestSeq: this.smallestSeq,
      largestKey,
      largestSeq: this.lastSeq,
      entries: this.entryCount,
      maxSequence: this.largestSeqSeen,
    };
  }

  /** Closes and deletes a partly written table (failed or cancelled flush or compaction). */
  async abandon(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private finishDataBlock(): void {
    if (this.data.isEmpty()) return;
    const offset = this.fileOffset + this.outputLength;
    const block = this.data.finish();
    this.appendBlock(block);
    if (offset >= MAX_TABLE_SIZE_BYTES)
      throw new Error(`table ${this.path} is past ${MAX_TABLE_SIZE_BYTES} bytes`);
    const handle = Buffer.allocUnsafe(10);
    let p = putVarint32(handle, 0, offset);
    p = putVarint32(handle, p, block.length);
    this.index.add(this.lastKey!, this.lastSeq, this.lastType, handle.subarray(0, p));
    this.data.reset();
  }

  private appendBlock(block: Buffer): void {
    this.appendRaw(block);
    this.ensure(BLOCK_TRAILER_BYTES);
    const blockStart = this.outputLength - block.length;
    this.output[this.outputLength] = BLOCK_COMPRESSION_NONE;
    // The CRC covers the block and its compression byte, as LevelDB's does.
    const crc = maskedCrc32c(this.output.subarray(blockStart, this.outputLength + 1));
    this.output.writeUInt32LE(crc, this.outputLength + 1);
    this.outputLength += BLOCK_TRAILER_BYTES;
  }

  private appendRaw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.output, this.outputLength);
    this.outputLength += bytes.length;
  }

  private ensure(extra: number): void {
    if (this.outputLength + extra <= this.output.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.output.length * 2, this.outputLength + extra));
    this.output.copy(grown, 0, 0, this.outputLength);
    this.output = grown;
  }

  private async drain(): Promise<void> {
    let written = 0;
    const length = this.outputLength;
    while (written < length) {
      const { bytesWritten } = await this.handle.write(
        this.output,
        written,
        length - written,
        this.fileOffset + written,
      );
      written += bytesWritten;
    }
    this.fileOffset += length;
    this.outputLength = 0;
    if (this.options.rateLimiter !== undefined) await this.options.rateLimiter.pace(length);
  }
}
