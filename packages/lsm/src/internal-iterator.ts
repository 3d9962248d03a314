/**
 * The cursor every source of entries implements (memtable, table, level,
 * merge). Positions are internal keys, ordered as in internal-key.ts. Movement
 * may be synchronous (memtable, cached blocks) or need I/O (a table block not in
 * the cache), hence `void | Promise<void>`; callers always `await`.
 */
export interface InternalIterator {
  valid(): boolean;
  /** User key of the current entry (valid() must be true). */
  key(): Buffer;
  seq(): number;
  type(): number;
  value(): Buffer;
  seekToFirst(): void | Promise<void>;
  seekToLast(): void | Promise<void>;
  /** Positions at the first entry >= (key, seq). */
  seek(key: Buffer, seq: number): void | Promise<void>;
  /** Positions at the last entry <= (key, seq). */
  seekForPrev(key: Buffer, seq: number): void | Promise<void>;
  next(): void | Promise<void>;
  prev(): void | Promise<void>;
  /** Releases what the cursor pins (table readers, versions). */
  close(): void;
}
