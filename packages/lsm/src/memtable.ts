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
 */
import { MAX_SEQUENCE } from "./constants.js";
import type { InternalIterator } from "./internal-iterator.js";
import { compareKeys } from "./internal-key.js";

const MAX_HEIGHT = 12;
/** Each level holds 1/4 of the nodes of the level below (LevelDB's branching). */
const BRANCHING = 4;
/** Bookkeeping per entry (node object, next array, numbers), counted in the size bound. */
const NODE_OVERHEAD_BYTES = 64;

class SkipNode {
  readonly next: (SkipNode | null)[];
  constructor(
    readonly key: Buffer,
    readonly seq: number,
    readonly type: number,
    readonly value: Buffer,
    height: number,
  ) {
    this.next = new Array<SkipNode | null>(height).fill(null);
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

export class Memtable {
  private readonly head = new SkipNode(EMPTY, MAX_SEQUENCE, 0, EMPTY, MAX_HEIGHT);
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
    const prev = this.prevScratch;
    let node = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level]!;
        if (next === null) break;
        const c = compareKeys(next.key, key);
        if (c < 0 || (c === 0 && next.seq > seq)) node = next;
        else break;
      }
      prev[level] = node;
    }
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) prev[level] = this.head;
      this.height = height;
    }
    const created = new SkipNode(key, seq, type, value, height);
    for (let level = 0; level < height; level++) {
      const before = prev[level]!;
      created.next[level] = before.next[level]!;
      before.next[level] = created;
    }
    this.approximateSizeBytes += key.length + value.length + NODE_OVERHEAD_BYTES;
    this.entryCount++;
    if (seq > this.largestSeq) this.largestSeq = seq;
  }

  /**
   * Newest entry for `key` with sequence <= `seq`, or null. The caller reads
   * `type` to tell a value from a tombstone.
   */
  get(key: Buffer, seq: number): { type: number; value: Buffer } | null {
    const node = this.findGreaterOrEqual(key, seq);
    if (node !== null && compareKeys(node.key, key) === 0) return node;
    return null;
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this);
  }

  /** @internal First node >= (key, seq). */
  findGreaterOrEqual(key: Buffer, seq: number): SkipNode | null {
    let node = this.head;
    let level = this.height - 1;
    for (;;) {
      const next = node.next[level]!;
      if (next !== null) {
        const c = compareKeys(next.key, key);
        if (c < 0 || (c === 0 && next.seq > seq)) {
          node = next;
          continue;
        }
      }
      if (level === 0) return next;
      level--;
    }
  }

  /** @internal Last node < (key, seq), or null when none. */
  findLessThan(key: Buffer, seq: number): SkipNode | null {
    let node = this.head;
    let level = this.height - 1;
    for (;;) {
      const next = node.next[level]!;
      if (next !== null) {
        const c = compareKeys(next.key, key);
        if (c < 0 || (c === 0 && next.seq > seq)) {
          node = next;
          continue;
        }
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
    this.node = this.table.findGreaterOrEqual(key, seq);
  }
  seekForPrev(key: Buffer, seq: number): void {
    const node = this.table.findGreaterOrEqual(key, seq);
    if (node !== null && node.seq === seq && compareKeys(node.key, key) === 0) {
      this.node = node;
    } else {
      this.node = this.table.findLessThan(key, seq);
    }
  }
  next(): void {
    this.node = this.node!.next[0]!;
  }
  prev(): void {
    const node = this.node!;
    this.node = this.table.findLessThan(node.key, node.seq);
  }
  close(): void {
    this.node = null;
  }
}
