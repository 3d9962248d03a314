/**
 * The memtable: recent writes, sorted by internal key, held in a skiplist.
 *
 * Why a skiplist: inserts are O(log n) without rebalancing or moving entries
 * (a sorted array pays O(n) per insert, ~15k moves at 4 MiB), iterators stay
 * valid while inserts continue (nodes are never moved or freed while the
 * memtable lives), and the structure is a few dozen lines. Every version of a
 * key is a separate node (sequence numbers differ), which is what snapshots need.
 * The memtable is bounded by `approximateSizeBytes`; the engine switches to a
 * fresh one when it passes the configured size.
 *
 * Each node also holds its key as a latin1 string: decoding maps every byte to
 * one UTF-16 code unit of the same value, so JavaScript's string order is
 * exactly bytewise order, and V8 compares flat strings natively. That halves
 * the cost of an insert (~20 comparisons) against comparing Buffers byte by
 * byte, for one string per entry (counted in the size bound).
 */
import { MAX_SEQUENCE } from "./constants.js";
import type { InternalIterator } from "./internal-iterator.js";

const MAX_HEIGHT = 12;
/** Each level holds 1/4 of the nodes of the level below (LevelDB's branching). */
const BRANCHING = 4;
/** Bookkeeping per entry (node object, next array, numbers), counted in the size bound. */
const NODE_OVERHEAD_BYTES = 64;

class SkipNode {
  readonly next: (SkipNode | null)[];
  constructor(
    readonly key: Buffer,
    /** `key` decoded as latin1: compares like the bytes. */
    readonly text: string,
    readonly seq: number,
    readonly type: number,
    readonly value: Buffer,
    height: number,
  ) {
    this.next = new Array<SkipNode | null>(height).fill(null);
  }
}

/** True when `node` sorts before (text, seq): smaller key, or same key and newer. */
function before(node: SkipNode, text: string, seq: number): boolean {
  const nodeText = node.text;
  return nodeText < text || (nodeText === text && node.seq > seq);
}

const EMPTY: Buffer = Buffer.alloc(0);

export class Memtable {
  private readonly head = new SkipNode(EMPTY, "", MAX_SEQUENCE, 0, EMPTY, MAX_HEIGHT);
  private height = 1;
  private readonly prevScratch: SkipNode[] = new Array<SkipNode>(MAX_HEIGHT);
  private randomState = 0x2545f491;
  approximateSizeBytes = 0;
  entryCount = 0;
  /** Highest sequence number inserted, 0 if empty. */
  largestSeq = 0;
  /** Number of the commit log holding this memtable's records (for deletion after flush). */
  logNumber: number;

  constructor(logNumber: number) {
    this.logNumber = logNumber;
  }

  add(key: Buffer, seq: number, type: number, value: Buffer): void {
    const text = key.toString("latin1");
    const prev = this.prevScratch;
    let node = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level]!;
        if (next === null || !before(next, text, seq)) break;
        node = next;
      }
      prev[level] = node;
    }
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) prev[level] = this.head;
      this.height = height;
    }
    const created = new SkipNode(key, text, seq, type, value, height);
    for (let level = 0; level < height; level++) {
      const before = prev[level]!;
      created.next[level] = before.next[level]!;
      before.next[level] = created;
    }
    // The key is held twice: the bytes and the latin1 string.
    this.approximateSizeBytes += 2 * key.length + value.length + NODE_OVERHEAD_BYTES;
    this.entryCount++;
    if (seq > this.largestSeq) this.largestSeq = seq;
  }

  /**
   * Newest entry for `key` with sequence <= `seq`, or null. The caller reads
   * `type` to tell a value from a tombstone.
   */
  get(key: Buffer, seq: number): { type: number; value: Buffer } | null {
    const text = key.toString("latin1");
    const node = this.findGreaterOrEqual(text, seq);
    if (node !== null && node.text === text) return node;
    return null;
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this);
  }

  /** @internal First node >= (text, seq); `text` is a key decoded as latin1. */
  findGreaterOrEqual(text: string, seq: number): SkipNode | null {
    let node = this.head;
    let level = this.height - 1;
    for (;;) {
      const next = node.next[level]!;
      if (next !== null && before(next, text, seq)) {
        node = next;
        continue;
      }
      if (level === 0) return next;
      level--;
    }
  }

  /** @internal Last node < (text, seq), or null when none. */
  findLessThan(text: string, seq: number): SkipNode | null {
    let node = this.head;
    let level = this.height - 1;
    for (;;) {
      const next = node.next[level]!;
      if (next !== null && before(next, text, seq)) {
        node = next;
        continue;
      }
      if (level === 0) return node === this.head ? null : node;
      level--;
    }
  }

  /** @internal */
  first(): SkipNode | null {
    return this.head.next[0]!;
  }

  /** @internal */
  last(): SkipNode | null {
    let node = this.head;
    let level = this.height - 1;
    for (;;) {
      const next = node.next[level]!;
      if (next !== null) {
        node = next;
        continue;
      }
      if (level === 0) return node === this.head ? null : node;
      level--;
    }
  }

  private randomHeight(): number {
    let height = 1;
    while (height < MAX_HEIGHT && this.nextRandom() % BRANCHING === 0) height++;
    return height;
  }

  /** xorshift32: deterministic and allocation-free; quality is plenty for tower heights. */
  private nextRandom(): number {
    let x = this.randomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    return this.randomState;
  }
}

class MemtableIterator implements InternalIterator {
  private node: SkipNode | null = null;
  constructor(private readonly table: Memtable) {}

  valid(): boolean {
    return this.node !== null;
  }
  key(): Buffer {
    return this.node!.key;
  }
  seq(): number {
    return this.node!.seq;
  }
  type(): number {
    return this.node!.type;
  }
  value(): Buffer {
    return this.node!.value;
  }
  seekToFirst(): void {
    this.node = this.table.first();
  }
  seekToLast(): void {
    this.node = this.table.last();
  }
  seek(key: Buffer, seq: number): void {
    this.node = this.table.findGreaterOrEqual(key.toString("latin1"), seq);
  }
  seekForPrev(key: Buffer, seq: number): void {
    const text = key.toString("latin1");
    const node = this.table.findGreaterOrEqual(text, seq);
    if (node !== null && node.seq === seq && node.text === text) {
      this.node = node;
    } else {
      this.node = this.table.findLessThan(text, seq);
    }
  }
  next(): void {
    this.node = this.node!.next[0]!;
  }
  prev(): void {
    const node = this.node!;
    this.node = this.table.findLessThan(node.text, node.seq);
  }
  close(): void {
    this.node = null;
  }
}
