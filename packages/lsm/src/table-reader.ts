/**
 * Reads a table file (layout in table-format.ts). Opening reads the footer,
 * then the index and filter blocks, which stay in memory for the table's
 * life; data blocks are read with pread on demand, checked (CRC32C), decoded
 * and kept in the shared block cache. Any failed check is a corruption error
 * naming the file and offset: bad data is never returned.
 */
import { read, readSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { blockHit, type ParsedBlock, parseBlock, seekInBlock } from "./block.js";
import { BlockCache } from "./block-cache.js";
import { bloomMayContain } from "./bloom.js";
import { decoded, getVarint32 } from "./coding.js";
import {
  BLOCK_COMPRESSION_NONE,
  BLOCK_TRAILER_BYTES,
  COMPACTION_READAHEAD_BYTES,
  TABLE_FOOTER_BYTES,
  TABLE_FORMAT_VERSION,
  TABLE_MAGIC,
  TYPE_DELETION,
} from "./constants.js";
import { maskedCrc32c } from "./crc32c.js";
import { corruption } from "./errors.js";
import type { InternalIterator } from "./internal-iterator.js";
import { compareKeys } from "./internal-key.js";
import type { Counters } from "./stats.js";
import { FOOTER_CRC_OFFSET, FOOTER_MAGIC_OFFSET, readU64 } from "./table-format.js";

/**
 * How data blocks missing from the cache are read. "sync": pread on the
 * calling thread (the event loop), as LevelDB reads on its caller's thread:
 * ~3-5 us for a block in the OS page cache, no thread-pool round trip, but a
 * read from a cold disk blocks the loop for the device's latency. "async":
 * pread in libuv's thread pool: the loop never waits on the disk, each miss
 * costs a round trip (~10-20 us on a busy machine).
 */
export type ReadMode = "sync" | "async";

/** Marker returned by lookups that found a deletion (tombstone) for the key. */
export const TOMBSTONE: unique symbol = Symbol("tombstone");
export type Lookup = Buffer | typeof TOMBSTONE | undefined;

export class TableReader {
  private constructor(
    readonly path: string,
    readonly number: number,
    private readonly handle: FileHandle,
    private readonly cache: BlockCache,
    private readonly counters: Counters,
    private readonly filter: Buffer,
    /** Last user key, sequence of each data block (the index block, decoded). */
    private readonly indexKeys: Buffer[],
    private readonly indexSeqs: number[],
    private readonly blockOffsets: number[],
    private readonly blockSizes: number[],
    private readonly readMode: ReadMode,
  ) {}

  static async open(
    path: string,
    number: number,
    sizeBytes: number,
    cache: BlockCache,
    counters: Counters,
    readMode: ReadMode,
  ): Promise<TableReader> {
    const handle = await open(path, "r");
    try {
      if (sizeBytes < TABLE_FOOTER_BYTES)
        throw corruption(path, 0, "file shorter than a table footer");
      const footerOffset = sizeBytes - TABLE_FOOTER_BYTES;
      const footer = await readExactly(handle, path, footerOffset, TABLE_FOOTER_BYTES);
      if (!footer.subarray(FOOTER_MAGIC_OFFSET).equals(TABLE_MAGIC)) {
        throw corruption(path, footerOffset + FOOTER_MAGIC_OFFSET, "bad table magic number");
      }
      if (
        maskedCrc32c(footer.subarray(0, FOOTER_CRC_OFFSET)) !==
        footer.readUInt32LE(FOOTER_CRC_OFFSET)
      ) {
        throw corruption(path, footerOffset, "footer checksum mismatch");
      }
      const version = footer.readUInt32LE(32);
      if (version !== TABLE_FORMAT_VERSION) {
        throw corruption(path, footerOffset + 32, `unsupported table format version ${version}`);
      }
      const filterOffset = readU64(footer, 0);
      const filterSize = footer.readUInt32LE(8);
      const indexOffset = readU64(footer, 12);
      const indexSize = footer.readUInt32LE(20);
      if (
        filterOffset + filterSize + BLOCK_TRAILER_BYTES > indexOffset ||
        indexOffset + indexSize > footerOffset
      ) {
        throw corruption(path, footerOffset, "footer block handles out of range");
      }
      const filter = Buffer.from(await readBlockBytes(handle, path, filterOffset, filterSize));
      const index = parseBlock(
        await readBlockBytes(handle, path, indexOffset, indexSize),
        path,
        indexOffset,
      );
      const blockOffsets: number[] = [];
      const blockSizes: number[] = [];
      for (let i = 0; i < index.count; i++) {
        const handleBytes = index.values[i]!;
        let p = getVarint32(handleBytes, 0, handleBytes.length);
        const offset = decoded.value;
        if (p >= 0) p = getVarint32(handleBytes, p, handleBytes.length);
        const size = decoded.value;
        if (p < 0 || offset + size + BLOCK_TRAILER_BYTES > filterOffset) {
          throw corruption(path, indexOffset, `bad block handle in index entry ${i}`);
        }
        blockOffsets.push(offset);
        blockSizes.push(size);
      }
      return new TableReader(
        path,
        number,
        handle,
        cache,
        counters,
        filter,
        index.keys,
        index.seqs,
        blockOffsets,
        blockSizes,
        readMode,
      );
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  get blockCount(): number {
    return this.blockOffsets.length;
  }

  /** Newest entry for `key` with sequence <= seq: its value, TOMBSTONE, or undefined. */
  get(key: Buffer, seq: number, hash: number): Lookup | Promise<Lookup> {
    if (!bloomMayContain(this.filter, hash)) {
      this.counters.bloomUseful++;
      return undefined;
    }
    const blockIndex = this.findBlock(key, seq);
    if (blockIndex === this.blockOffsets.length) {
      this.counters.bloomFalsePositive++;
      return undefined;
    }
    const block = this.readBlock(blockIndex);
    if (block instanceof Promise)
      return block.then((loaded) => this.lookupInBlock(loaded, blockIndex, key, seq));
    return this.lookupInBlock(block, blockIndex, key, seq);
  }

  /** Index of the first block whose last internal key >= (key, seq). */
  findBlock(key: Buffer, seq: number): number {
    const keys = this.indexKeys;
    const seqs = this.indexSeqs;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const c = compareKeys(keys[mid]!, key);
      if (c < 0 || (c === 0 && seqs[mid]! > seq)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** A raw, verified data block: from the block cache, or read with pread, checked and cached. */
  readBlock(blockIndex: number): Buffer | Promise<Buffer> {
    const cacheKey = BlockCache.key(this.number, blockIndex);
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const offset = this.blockOffsets[blockIndex]!;
    const size = this.blockSizes[blockIndex]!;
    const length = size + BLOCK_TRAILER_BYTES;
    const raw = Buffer.allocUnsafe(length);
    if (this.readMode === "sync") {
      const bytesRead = readSync(this.handle.fd, raw, 0, length, offset);
      if (bytesRead !== length)
        throw corruption(this.path, offset, `truncated block: wanted ${length} bytes`);
      const block = verifyBlock(raw, this.path, offset);
      this.cache.insert(cacheKey, block);
      return block;
    }
    // One pread and one promise per miss: this is the hot path of random reads.
    return new Promise<Buffer>((resolve, reject) => {
      read(this.handle.fd, raw, 0, length, offset, (error, bytesRead) => {
        if (error !== null) {
          reject(error);
          return;
        }
        try {
          if (bytesRead !== length)
            throw corruption(this.path, offset, `truncated block: wanted ${length} bytes`);
          const block = verifyBlock(raw, this.path, offset);
          this.cache.insert(cacheKey, block);
          resolve(block);
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }

  /** A decoded data block (for iterators). */
  async parsedBlock(blockIndex: number): Promise<ParsedBlock> {
    const raw = await this.readBlock(blockIndex);
    return parseBlock(raw, this.path, this.blockOffsets[blockIndex]!);
  }

  /** Decodes block `blockIndex` from `chunk`, which holds the file bytes starting at `chunkOffset`. */
  parseFromChunk(blockIndex: number, chunk: Buffer, chunkOffset: number): ParsedBlock | null {
    const offset = this.blockOffsets[blockIndex]!;
    const size = this.blockSizes[blockIndex]!;
    const start = offset - chunkOffset;
    if (start < 0 || start + size + BLOCK_TRAILER_BYTES > chunk.length) return null;
    const bytes = verifyBlock(
      chunk.subarray(start, start + size + BLOCK_TRAILER_BYTES),
      this.path,
      offset,
    );
    return parseBlock(bytes, this.path, offset);
  }

  /** Reads `length` bytes at `offset` (compaction readahead). */
  readChunk(offset: number, length: number): Promise<Buffer> {
    return readAtMost(this.handle, offset, length);
  }

  blockRange(blockIndex: number): { offset: number; size: number } {
    return { offset: this.blockOffsets[blockIndex]!, size: this.blockSizes[blockIndex]! };
  }

  /**
   * A cursor over the table. "cached" reads through the block cache (user
   * iterators); "sequential" reads COMPACTION_READAHEAD_BYTES at a time and
   * leaves the cache alone (compaction).
   */
  iterator(mode: "cached" | "sequential"): InternalIterator {
    return new TableIterator(this, mode);
  }

  async close(): Promise<void> {
    this.cache.evictFile(this.number, this.blockOffsets.length);
    await this.handle.close();
  }

  private lookupInBlock(block: Buffer, blockIndex: number, key: Buffer, seq: number): Lookup {
    if (seekInBlock(block, key, seq, this.path, this.blockOffsets[blockIndex]!)) {
      this.counters.bloomTruePositive++;
      return blockHit.type === TYPE_DELETION
        ? TOMBSTONE
        : block.subarray(blockHit.valueStart, blockHit.valueEnd);
    }
    this.counters.bloomFalsePositive++;
    return undefined;
  }
}

/**
 * pread through the callback API on the raw descriptor: in Node 20 it costs
 * about half of FileHandle.read per call, which matters on the point-read path.
 */
function preadOnce(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  if (process.env.LSM_SYNC_READ === "1")
    return Promise.resolve(readSync(fd, buffer, offset, length, position));
  return new Promise((resolve, reject) => {
    read(fd, buffer, offset, length, position, (error, bytesRead) => {
      if (error !== null) reject(error);
      else resolve(bytesRead);
    });
  });
}

async function readAtMost(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let total = 0;
  while (total < length) {
    const bytesRead = await preadOnce(handle.fd, buffer, total, length - total, offset + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return buffer.subarray(0, total);
}

async function readExactly(
  handle: FileHandle,
  path: string,
  offset: number,
  length: number,
): Promise<Buffer> {
  const bytes = await readAtMost(handle, offset, length);
  if (bytes.length !== length)
    throw corruption(path, offset, `truncated: wanted ${length} bytes, file ends`);
  return bytes;
}

/** Reads block bytes plus trailer, checks the CRC, returns the block bytes. */
async function readBlockBytes(
  handle: FileHandle,
  path: string,
  offset: number,
  size: number,
): Promise<Buffer> {
  const raw = await readExactly(handle, path, offset, size + BLOCK_TRAILER_BYTES);
  return verifyBlock(raw, path, offset);
}

function verifyBlock(raw: Buffer, path: string, offset: number): Buffer {
  const size = raw.length - BLOCK_TRAILER_BYTES;
  const stored = raw.readUInt32LE(size + 1);
  if (maskedCrc32c(raw.subarray(0, size + 1)) !== stored) {
    throw corruption(path, offset, "block checksum mismatch");
  }
  if (raw[size] !== BLOCK_COMPRESSION_NONE) {
    throw corruption(path, offset + size, `unknown block compression type ${raw[size]}`);
  }
  return raw.subarray(0, size);
}

class TableIterator implements InternalIterator {
  private block: ParsedBlock | null = null;
  private blockIndex = -1;
  private position = 0;
  private chunk: Buffer | null = null;
  private chunkOffset = 0;

  constructor(
    private readonly table: TableReader,
    private readonly mode: "cached" | "sequential",
  ) {}

  valid(): boolean {
    return this.block !== null;
  }
  key(): Buffer {
    return this.block!.keys[this.position]!;
  }
  seq(): number {
    return this.block!.seqs[this.position]!;
  }
  type(): number {
    return this.block!.types[this.position]!;
  }
  value(): Buffer {
    return this.block!.values[this.position]!;
  }

  seekToFirst(): void | Promise<void> {
    return this.enterBlock(0, "first");
  }
  seekToLast(): void | Promise<void> {
    return this.enterBlock(this.table.blockCount - 1, "last");
  }

  async seek(key: Buffer, seq: number): Promise<void> {
    const index = this.table.findBlock(key, seq);
    await this.load(index);
    if (this.block === null) return;
    this.position = this.block.seek(key, seq);
    if (this.position >= this.block.count) await this.enterBlock(index + 1, "first");
  }

  async seekForPrev(key: Buffer, seq: number): Promise<void> {
    let index = this.table.findBlock(key, seq);
    if (index >= this.table.blockCount) index = this.table.blockCount - 1;
    await this.load(index);
    if (this.block === null) return;
    const block = this.block;
    const i = block.seek(key, seq);
    if (i < block.count && block.seqs[i] === seq && Buffer.compare(block.keys[i]!, key) === 0) {
      this.position = i;
    } else if (i > 0) {
      this.position = i - 1;
    } else {
      await this.enterBlock(index - 1, "last");
    }
  }

  next(): void | Promise<void> {
    if (this.position + 1 < this.block!.count) {
      this.position++;
      return;
    }
    return this.enterBlock(this.blockIndex + 1, "first");
  }

  prev(): void | Promise<void> {
    if (this.position > 0) {
      this.position--;
      return;
    }
    return this.enterBlock(this.blockIndex - 1, "last");
  }

  close(): void {
    this.block = null;
    this.chunk = null;
  }

  private async enterBlock(index: number, where: "first" | "last"): Promise<void> {
    // Blocks are never empty (the builder only finishes non-empty blocks).
    await this.load(index);
    if (this.block !== null) this.position = where === "first" ? 0 : this.block.count - 1;
  }

  private async load(index: number): Promise<void> {
    if (index < 0 || index >= this.table.blockCount) {
      this.block = null;
      this.blockIndex = -1;
      return;
    }
    if (index === this.blockIndex && this.block !== null) return;
    this.blockIndex = index;
    if (this.mode === "cached") {
      this.block = await this.table.parsedBlock(index);
      return;
    }
    let parsed =
      this.chunk === null ? null : this.table.parseFromChunk(index, this.chunk, this.chunkOffset);
    if (parsed === null) {
      const { offset, size } = this.table.blockRange(index);
      this.chunkOffset = offset;
      this.chunk = await this.table.readChunk(
        offset,
        Math.max(COMPACTION_READAHEAD_BYTES, size + BLOCK_TRAILER_BYTES),
      );
      parsed = this.table.parseFromChunk(index, this.chunk, this.chunkOffset);
      if (parsed === null)
        throw corruption(this.table.path, offset, "block runs past the end of the file");
    }
    this.block = parsed;
  }
}
