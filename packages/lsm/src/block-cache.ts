/**
 * LRU cache of raw (checksum-verified) blocks, bounded by bytes. A Map finds
 * entries; a doubly linked list keeps them in recency order (head = most
 * recent), so a hit, an insert and an eviction are O(1) without allocating
 * iterators. Keys are numbers: file number times 2^24 plus the block's index
 * in its file.
 */

const BLOCKS_PER_FILE = 2 ** 24;

class Node {
  previous: Node | null = null;
  next: Node | null = null;
  constructor(
    readonly key: number,
    public block: Buffer,
  ) {}
}

export class BlockCache {
  private readonly entries = new Map<number, Node>();
  private head: Node | null = null;
  private tail: Node | null = null;
  sizeBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {}

  static key(fileNumber: number, blockIndex: number): number {
    return fileNumber * BLOCKS_PER_FILE + blockIndex;
  }

  get(key: number): Buffer | undefined {
    const node = this.entries.get(key);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (node !== this.head) {
      this.unlink(node);
      this.pushFront(node);
    }
    return node.block;
  }

  insert(key: number, block: Buffer): void {
    if (block.length > this.capacityBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.unlink(old);
      this.entries.delete(key);
      this.sizeBytes -= old.block.length;
    }
    const node = new Node(key, block);
    this.entries.set(key, node);
    this.pushFront(node);
    this.sizeBytes += block.length;
    while (this.sizeBytes > this.capacityBytes && this.tail !== null) {
      const oldest = this.tail;
      this.unlink(oldest);
      this.entries.delete(oldest.key);
      this.sizeBytes -= oldest.block.length;
    }
  }

  /** Drops every block of a deleted table. */
  evictFile(fileNumber: number, blockCount: number): void {
    for (let i = 0; i < blockCount; i++) {
      const key = BlockCache.key(fileNumber, i);
      const node = this.entries.get(key);
      if (node !== undefined) {
        this.unlink(node);
        this.entries.delete(key);
        this.sizeBytes -= node.block.length;
      }
    }
  }

  private pushFront(node: Node): void {
    node.previous = null;
    node.next = this.head;
    if (this.head !== null) this.head.previous = node;
    this.head = node;
    if (this.tail === null) this.tail = node;
  }

  private unlink(node: Node): void {
    if (node.previous !== null) node.previous.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.previous = node.previous;
    else this.tail = node.previous;
    node.previous = null;
    node.next = null;
  }
}
