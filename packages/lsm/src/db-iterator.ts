/**
 * The user-facing iterator over a merged view of memtables and tables:
 * applies the snapshot (entries newer than it are invisible), keeps only the
 * newest visible version of each key, hides keys whose newest visible entry is
 * a tombstone, and applies bounds and the limit. Forward and reverse differ in
 * how versions arrive (newest first vs oldest first), hence two generators.
 */
import { asBuffer } from "./coding.js";
import { MAX_SEQUENCE, TYPE_VALUE } from "./constants.js";
import type { InternalIterator } from "./internal-iterator.js";
import type { TableCache } from "./table-cache.js";
import type { IteratorOptions } from "./types.js";
import type { TableMeta } from "./version.js";

/** Opens an L0 table's reader on first movement, so creating an iterator stays synchronous. */
export class LazyTableIterator implements InternalIterator {
  private inner: InternalIterator | null = null;
  constructor(
    private readonly tableCache: TableCache,
    private readonly table: TableMeta,
  ) {}
  private async open(): Promise<InternalIterator> {
    if (this.inner === null)
      this.inner = (await this.tableCache.get(this.table)).iterator("cached");
    return this.inner;
  }
  valid(): boolean {
    return this.inner?.valid() === true;
  }
  key(): Buffer {
    return this.inner!.key();
  }
  seq(): number {
    return this.inner!.seq();
  }
  type(): number {
    return this.inner!.type();
  }
  value(): Buffer {
    return this.inner!.value();
  }
  async seekToFirst(): Promise<void> {
    await (await this.open()).seekToFirst();
  }
  async seekToLast(): Promise<void> {
    await (await this.open()).seekToLast();
  }
  async seek(key: Buffer, seq: number): Promise<void> {
    await (await this.open()).seek(key, seq);
  }
  async seekForPrev(key: Buffer, seq: number): Promise<void> {
    await (await this.open()).seekForPrev(key, seq);
  }
  next(): void | Promise<void> {
    return this.inner!.next();
  }
  prev(): void | Promise<void> {
    return this.inner!.prev();
  }
  close(): void {
    this.inner?.close();
  }
}

export interface Bounds {
  lower: Buffer | null;
  lowerInclusive: boolean;
  upper: Buffer | null;
  upperInclusive: boolean;
}

export function iteratorBounds(options: IteratorOptions): Bounds {
  const bounds: Bounds = { lower: null, lowerInclusive: true, upper: null, upperInclusive: true };
  if (options.gt !== undefined) {
    bounds.lower = asBuffer(options.gt);
    bounds.lowerInclusive = false;
  } else if (options.gte !== undefined) {
    bounds.lower = asBuffer(options.gte);
  }
  if (options.lt !== undefined) {
    bounds.upper = asBuffer(options.lt);
    bounds.upperInclusive = false;
  } else if (options.lte !== undefined) {
    bounds.upper = asBuffer(options.lte);
  }
  return bounds;
}

function aboveLower(key: Buffer, bounds: Bounds): boolean {
  if (bounds.lower === null) return true;
  const c = Buffer.compare(key, bounds.lower);
  return bounds.lowerInclusive ? c >= 0 : c > 0;
}

function belowUpper(key: Buffer, bounds: Bounds): boolean {
  if (bounds.upper === null) return true;
  const c = Buffer.compare(key, bounds.upper);
  return bounds.upperInclusive ? c <= 0 : c < 0;
}

/**
 * Forward iteration: entries come newest-first per user key; the first
 * version visible at `seq` decides (a value is yielded, a tombstone hides the
 * key); older versions of the same key are skipped.
 */
export async function* iterateForward(
  it: InternalIterator,
  seq: number,
  bounds: Bounds,
  limit: number,
  release: () => void,
): AsyncGenerator<[Uint8Array, Uint8Array]> {
  try {
    if (limit <= 0) return;
    if (bounds.lower !== null) await it.seek(bounds.lower, MAX_SEQUENCE);
    else await it.seekToFirst();
    let done: Buffer | null = null;
    let yielded = 0;
    while (it.valid()) {
      const key = it.key();
      if (it.seq() > seq || (done !== null && Buffer.compare(key, done) === 0)) {
        const moved = it.next();
        if (moved !== undefined) await moved;
        continue;
      }
      if (!belowUpper(key, bounds)) return;
      done = key;
      if (it.type() === TYPE_VALUE && aboveLower(key, bounds)) {
        yield [Buffer.from(key), Buffer.from(it.value())];
        if (++yielded >= limit) return;
      }
      const moved = it.next();
      if (moved !== undefined) await moved;
    }
  } finally {
    release();
  }
}

/**
 * Reverse iteration: entries of one user key come oldest-first; the last one
 * visible at `seq` before the key changes is the newest visible version.
 */
export async function* iterateReverse(
  it: InternalIterator,
  seq: number,
  bounds: Bounds,
  limit: number,
  release: () => void,
): AsyncGenerator<[Uint8Array, Uint8Array]> {
  try {
    if (limit <= 0) return;
    if (bounds.upper !== null) {
      // (key, 0) sorts after every version of key; (key, MAX) before all of them.
      await it.seekForPrev(bounds.upper, bounds.upperInclusive ? 0 : MAX_SEQUENCE);
    } else {
      await it.seekToLast();
    }
    let yielded = 0;
    while (it.valid()) {
      const key = it.key();
      let type = -1;
      let value: Buffer | null = null;
      while (it.valid() && Buffer.compare(it.key(), key) === 0) {
        if (it.seq() <= seq) {
          type = it.type();
          value = it.value();
        }
        const moved = it.prev();
        if (moved !== undefined) await moved;
      }
      if (!aboveLower(key, bounds)) return;
      if (type === TYPE_VALUE && belowUpper(key, bounds)) {
        yield [Buffer.from(key), Buffer.from(value!)];
        if (++yielded >= limit) return;
      }
    }
  } finally {
    release();
  }
}
