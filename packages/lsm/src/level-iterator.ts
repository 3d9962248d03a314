/**
 * A cursor over one level >= 1: its tables are disjoint and sorted, so the
 * level reads as one sorted run; table readers are opened lazily as the
 * cursor crosses from one table to the next.
 */
import type { InternalIterator } from "./internal-iterator.js";
import { compareInternal } from "./internal-key.js";
import type { TableCache } from "./table-cache.js";
import type { TableMeta } from "./version.js";

export class LevelIterator implements InternalIterator {
  private index = -1;
  private current: InternalIterator | null = null;

  constructor(
    private readonly tables: readonly TableMeta[],
    private readonly tableCache: TableCache,
    private readonly mode: "cached" | "sequential",
  ) {}

  valid(): boolean {
    return this.current?.valid() === true;
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
    await this.open(0);
    if (this.current !== null) await this.current.seekToFirst();
    await this.skipForward();
  }

  async seekToLast(): Promise<void> {
    await this.open(this.tables.length - 1);
    if (this.current !== null) await this.current.seekToLast();
    await this.skipBackward();
  }

  async seek(key: Buffer, seq: number): Promise<void> {
    await this.open(this.firstTableNotBefore(key, seq));
    if (this.current !== null) await this.current.seek(key, seq);
    await this.skipForward();
  }

  async seekForPrev(key: Buffer, seq: number): Promise<void> {
    let index = this.firstTableNotBefore(key, seq);
    if (index >= this.tables.length) index = this.tables.length - 1;
    await this.open(index);
    if (this.current !== null) await this.current.seekForPrev(key, seq);
    await this.skipBackward();
  }

  next(): void | Promise<void> {
    const moved = this.current!.next();
    if (moved !== undefined) return moved.then(() => this.skipForward());
    if (!this.current!.valid()) return this.skipForward();
  }

  prev(): void | Promise<void> {
    const moved = this.current!.prev();
    if (moved !== undefined) return moved.then(() => this.skipBackward());
    if (!this.current!.valid()) return this.skipBackward();
  }

  close(): void {
    this.current?.close();
    this.current = null;
  }

  /** First table whose largest internal key >= (key, seq). */
  private firstTableNotBefore(key: Buffer, seq: number): number {
    let low = 0;
    let high = this.tables.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const t = this.tables[mid]!;
      if (compareInternal(t.largestKey, t.largestSeq, key, seq) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private async open(index: number): Promise<void> {
    this.current?.close();
    this.current = null;
    this.index = index;
    if (index < 0 || index >= this.tables.length) return;
    const reader = await this.tableCache.get(this.tables[index]!);
    this.current = reader.iterator(this.mode);
  }

  private async skipForward(): Promise<void> {
    while (this.current !== null && !this.current.valid()) {
      await this.open(this.index + 1);
      if (this.current !== null) await this.current.seekToFirst();
    }
  }

  private async skipBackward(): Promise<void> {
    while (this.current !== null && !this.current.valid()) {
      await this.open(this.index - 1);
      if (this.current !== null) await this.current.seekToLast();
    }
  }
}
