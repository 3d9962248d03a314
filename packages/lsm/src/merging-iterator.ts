/**
 * Merges sorted cursors into one sorted stream of internal keys. One
 * direction per merge (the engine's iterators never turn around). The child
 * with the smallest (forward) or largest (reverse) current key is found by a
 * linear scan: there are few children (memtables, L0 tables, one per level).
 */
import type { InternalIterator } from "./internal-iterator.js";
import { compareInternal } from "./internal-key.js";

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | null = null;

  constructor(
    private readonly children: InternalIterator[],
    private readonly reverse: boolean,
  ) {}

  valid(): boolean {
    return this.current !== null;
  }
  key(): Buffer {
    return this.current!.key();
  }
  seq(): number {
    return this.current!.seq();
  }
  type(): number {
    return this.current!.type();
  }
  value(): Buffer {
    return this.current!.value();
  }

  async seekToFirst(): Promise<void> {
    this.assertDirection(false);
    for (const child of this.children) await child.seekToFirst();
    this.pick();
  }
  async seekToLast(): Promise<void> {
    this.assertDirection(true);
    for (const child of this.children) await child.seekToLast();
    this.pick();
  }
  async seek(key: Buffer, seq: number): Promise<void> {
    this.assertDirection(false);
    for (const child of this.children) await child.seek(key, seq);
    this.pick();
  }
  async seekForPrev(key: Buffer, seq: number): Promise<void> {
    this.assertDirection(true);
    for (const child of this.children) await child.seekForPrev(key, seq);
    this.pick();
  }
  // next/prev stay synchronous when the child moved synchronously (the common
  // case inside a block): no promise per entry on the merge's hot path.
  next(): void | Promise<void> {
    const moved = this.current!.next();
    if (moved !== undefined) return moved.then(() => this.pick());
    this.pick();
  }
  prev(): void | Promise<void> {
    const moved = this.current!.prev();
    if (moved !== undefined) return moved.then(() => this.pick());
    this.pick();
  }
  close(): void {
    for (const child of this.children) child.close();
    this.current = null;
  }

  private pick(): void {
    let best: InternalIterator | null = null;
    const sign = this.reverse ? -1 : 1;
    for (const child of this.children) {
      if (!child.valid()) continue;
      if (
        best === null ||
        sign * compareInternal(child.key(), child.seq(), best.key(), best.seq()) < 0
      ) {
        best = child;
      }
    }
    this.current = best;
  }

  private assertDirection(reverse: boolean): void {
    if (reverse !== this.reverse) throw new Error("MergingIterator used against its direction");
  }
}
