/**
 * LRU cache of raw (checksum-verified) blocks bounded by bytes. A Map keeps insertion order:
 * a hit re-inserts the entry (moving it to the young end), eviction removes
 * from the old end until the charge fits. Keys are numbers: file number times
 * 2^24 plus the block's index in its file.
 */
const BLOCKS_PER_FILE = 2 ** 24;

export class BlockCache {
  private readonly entries = new Map<number, Buffer>();
  sizeBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {}

  static key(fileNumber: number, blockIndex: number): number {
    return fileNumber * BLOCKS_PER_FILE + blockIndex;
  }

  get(key: number): Buffer | undefined {
    const block = this.entries.get(key);
    if (block === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, block);
    return block;
  }

  insert(key: number, block: Buffer): void {
    if (block.length > this.capacityBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.sizeBytes -= old.length;
    }
    this.entries.set(key, block);
    this.sizeBytes += block.length;
    if (this.sizeBytes > this.capacityBytes) {
      for (const [oldestKey, oldest] of this.entries) {
        this.entries.delete(oldestKey);
        this.sizeBytes -= oldest.length;
        if (this.sizeBytes <= this.capacityBytes) break;
      }
    }
  }

  /** Drops every block of a deleted table. */
  evictFile(fileNumber: number, blockCount: number): void {
    for (let i = 0; i < blockCount; i++) {
      const key = BlockCache.key(fileNumber, i);
      const block = this.entries.get(key);
      if (block !== undefined) {
        this.entries.delete(key);
        this.sizeBytes -= block.length;
      }
    }
  }
}
