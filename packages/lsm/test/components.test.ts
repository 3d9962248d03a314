/** Property tests of the building blocks: bloom filter, block encoding, memtable order, log records, varints. */

import { crc32c as nativeCrc32c } from "@node-rs/crc32";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBlock, seekInBlock } from "../src/block.js";
import { BlockBuilder } from "../src/block-builder.js";
import { BlockCache } from "../src/block-cache.js";
import { bloomHash, bloomMayContain, buildBloomFilter } from "../src/bloom.js";
import { decoded, getVarint32, putVarint32, varintLength } from "../src/coding.js";
import { TYPE_DELETION, TYPE_VALUE } from "../src/constants.js";
import { crc32c, jsCrc32c } from "../src/crc32c.js";
import { compareInternal } from "../src/internal-key.js";
import { hashBytes, INLINE_KEY_BYTES, KeyIndex } from "../src/key-index.js";
import {
  applyBatchPayload,
  batchRecordSize,
  encodeBatchRecord,
  encodeSingleRecord,
  singleRecordSize,
} from "../src/log-format.js";
import { Memtable } from "../src/memtable.js";
import { WriteBatch } from "../src/write-batch.js";

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 24 }).map((a) => Buffer.from(a));

interface Entry {
  key: Buffer;
  seq: number;
  type: number;
  value: Buffer;
}

/** Distinct (key, seq) entries sorted by internal key. */
const entriesArb = fc
  .array(
    fc.record({
      key: keyArb,
      seq: fc.integer({ min: 0, max: 2 ** 40 }),
      type: fc.constantFrom(0, 1),
      value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    }),
    {
      minLength: 1,
      maxLength: 200,
    },
  )
  .map((entries) => {
    const seen = new Set<string>();
    const unique = entries.filter((e) => {
      const id = `${e.key.toString("hex")}/${e.seq}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    return unique.sort((a, b) => compareInternal(a.key, a.seq, b.key, b.seq));
  });

describe("bloom filter", () => {
  it("has no false negatives", () => {
    fc.assert(
      fc.property(
        fc.array(keyArb, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        (keys, bits) => {
          const hashes = Uint32Array.from(keys.map(bloomHash));
          const filter = buildBloomFilter(hashes, hashes.length, bits);
          for (const key of keys) expect(bloomMayContain(filter, bloomHash(key))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("has about 1 % false positives at 10 bits per key", () => {
    const count = 20_000;
    const keys = Array.from({ length: count }, (_, i) => Buffer.from(`present-${i}`));
    const filter = buildBloomFilter(Uint32Array.from(keys.map(bloomHash)), count, 10);
    let positives = 0;
    for (let i = 0; i < count; i++)
      if (bloomMayContain(filter, bloomHash(Buffer.from(`absent-${i}`)))) positives++;
    const rate = positives / count;
    expect(rate).toBeGreaterThan(0.002);
    expect(rate).toBeLessThan(0.02);
  });
});

describe("block encoding", () => {
  it("parses back exactly what was added, and point seeks find every entry", () => {
    fc.assert(
      fc.property(entriesArb, fc.integer({ min: 1, max: 20 }), (entries, restartInterval) => {
        const builder = new BlockBuilder(restartInterval, 64);
        for (const e of entries) builder.add(e.key, e.seq, e.type, e.value);
        const block = Buffer.from(builder.finish());
        const parsed = parseBlock(block, "test", 0);
        expect(parsed.keys.map((k) => k.toString("hex"))).toEqual(
          entries.map((e) => e.key.toString("hex")),
        );
        expect(parsed.seqs).toEqual(entries.map((e) => e.seq));
        expect(parsed.types).toEqual(entries.map((e) => e.type));
        expect(parsed.values.map((v) => v.toString("hex"))).toEqual(
          entries.map((e) => e.value.toString("hex")),
        );
        for (const e of entries) {
          // Reading at the entry's own sequence finds the newest version <= seq: the entry itself.
          expect(seekInBlock(block, e.key, e.seq, "test", 0)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("point seeks agree with a linear search", () => {
    fc.assert(
      fc.property(entriesArb, keyArb, fc.integer({ min: 0, max: 2 ** 40 }), (entries, key, seq) => {
        const builder = new BlockBuilder(16, 64);
        for (const e of entries) builder.add(e.key, e.seq, e.type, e.value);
        const block = Buffer.from(builder.finish());
        const first = entries.find((e) => compareInternal(e.key, e.seq, key, seq) >= 0);
        const expected = first?.key.equals(key) === true;
        expect(seekInBlock(block, key, seq, "test", 0)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe("memtable", () => {
  it("iterates in internal-key order and answers reads like a linear search", () => {
    fc.assert(
      fc.property(
        entriesArb,
        fc.array(fc.tuple(keyArb, fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 30 }),
        (entries, probes) => {
          const memtable = new Memtable(1);
          // Insert in a scrambled order; the memtable must sort.
          const shuffled = [...entries].sort(
            (a, b) => ((a.value.length * 31 + a.seq) % 7) - ((b.value.length * 31 + b.seq) % 7),
          );
          for (const e of shuffled) memtable.add(e.key, e.seq, e.type, e.value);
          const it = memtable.iterator();
          const seen: Entry[] = [];
          for (it.seekToFirst(); it.valid(); it.next()) {
            seen.push({ key: it.key(), seq: it.seq(), type: it.type(), value: it.value() });
          }
          expect(seen.map((e) => `${e.key.toString("hex")}/${e.seq}`)).toEqual(
            entries.map((e) => `${e.key.toString("hex")}/${e.seq}`),
          );
          const reversed: string[] = [];
          for (it.seekToLast(); it.valid(); it.prev())
            reversed.push(`${it.key().toString("hex")}/${it.seq()}`);
          expect(reversed).toEqual(seen.map((e) => `${e.key.toString("hex")}/${e.seq}`).reverse());
          for (const [key, seq] of [
            ...probes,
            ...entries.map((e) => [e.key, e.seq] as [Buffer, number]),
          ]) {
            const expected = entries.find((e) => e.key.equals(key) && e.seq <= seq);
            const got = memtable.get(key, seq);
            expect(got === null ? null : got.value.toString("hex")).toBe(
              expected === undefined ? null : expected.value.toString("hex"),
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("key index", () => {
  it("numbers keys like a Map does, across growth of slots, arrays and arena", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 3000 }),
        (keys) => {
          const index = new KeyIndex();
          const model = new Map<string, number>();
          for (const key of keys) {
            const hex = Buffer.from(key).toString("hex");
            const hash = hashBytes(key, 0, key.length);
            const found = index.find(key, 0, key.length, hash);
            expect(found).toBe(model.get(hex) ?? -1);
            if (found < 0) model.set(hex, index.add(key, 0, key.length, hash));
          }
          expect(index.size).toBe(model.size);
          for (const [hex, id] of model) {
            const key = Buffer.from(hex, "hex");
            expect(index.find(key, 0, key.length, hashBytes(key, 0, key.length))).toBe(id);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("key index with removals", () => {
  const hashOf = (key: Buffer) => hashBytes(key, 0, key.length);

  it("answers like a Map through adds, removes, clears, slot rebuilds and arena compaction", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("add", "add", "remove", "remove", "find", "clear"),
            // Few distinct keys (shared prefixes, lengths 0..40), so removes hit and the arena churns.
            fc.integer({ min: 0, max: 400 }),
          ),
          { minLength: 2000, maxLength: 4000 },
        ),
        (operations) => {
          // A 64-byte arena to start: it grows and compacts many times per run.
          const index = new KeyIndex(64);
          const model = new Map<string, number>();
          operations.forEach(([op, n], step) => {
            const key = Buffer.from(`k${n}-`.repeat(8).slice(0, n % 41), "latin1");
            const name = key.toString("latin1");
            if (op === "add") {
              if (model.has(name)) return;
              const id = index.add(key, 0, key.length, hashOf(key));
              // Record numbers are never shared by two live keys.
              expect([...model.values()]).not.toContain(id);
              model.set(name, id);
            } else if (op === "remove") {
              expect(index.remove(key, 0, key.length, hashOf(key))).toBe(model.get(name) ?? -1);
              model.delete(name);
            } else if (op === "clear") {
              if (step % 7 !== 0) return;
              index.clear();
              model.clear();
            }
            expect(index.find(key, 0, key.length, hashOf(key))).toBe(model.get(name) ?? -1);
            expect(index.size).toBe(model.size);
          });
          for (const [name, id] of model) {
            const key = Buffer.from(name, "latin1");
            expect(index.find(key, 0, key.length, hashOf(key))).toBe(id);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("compares keys byte for byte, in the row and past it (holds)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: INLINE_KEY_BYTES + 16 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.nat({ max: 7 }),
        (bytes, at, flip, offset) => {
          const key = Buffer.from(bytes);
          const index = new KeyIndex(64);
          const id = index.add(key, 0, key.length, hashOf(key));
          // The same bytes at an offset of a larger buffer, then with one byte changed.
          const source = Buffer.alloc(offset + key.length + 3, 0xee);
          key.copy(source, offset);
          expect(index.holds(id, source, offset, offset + key.length)).toBe(true);
          if (key.length > 0) {
            const position = offset + (at % key.length);
            source[position] = source[position]! ^ flip;
            expect(index.holds(id, source, offset, offset + key.length)).toBe(false);
            source[position] = source[position]! ^ flip;
          }
          // A prefix or an extension is another key.
          expect(index.holds(id, source, offset, offset + key.length + 1)).toBe(false);
          if (key.length > 0) {
            expect(index.holds(id, source, offset, offset + key.length - 1)).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("keeps every live key findable after removals compact its arena", () => {
    const index = new KeyIndex(64);
    const key = (i: number) => Buffer.from(`user:${i}:${"x".repeat(i % 17)}`);
    const ids = new Map<number, number>();
    for (let i = 0; i < 5000; i++) ids.set(i, index.add(key(i), 0, key(i).length, hashOf(key(i))));
    // Remove three in four: dead bytes pass half, and the next growth compacts.
    for (let i = 0; i < 5000; i++) {
      if (i % 4 === 0) continue;
      expect(index.remove(key(i), 0, key(i).length, hashOf(key(i)))).toBe(ids.get(i));
      ids.delete(i);
    }
    for (let i = 5000; i < 10_000; i++) {
      ids.set(i, index.add(key(i), 0, key(i).length, hashOf(key(i))));
    }
    expect(index.size).toBe(1250 + 5000);
    for (let i = 0; i < 10_000; i++) {
      expect(index.find(key(i), 0, key(i).length, hashOf(key(i))), `key ${i}`).toBe(
        ids.get(i) ?? -1,
      );
    }
  });
});

describe("memtable hash index", () => {
  it("finds every key and only those across index growth, including keys that are prefixes of others", () => {
    const memtable = new Memtable(1);
    const inserted = new Map<string, string>();
    let seq = 1;
    // 20 000 keys (the index doubles from 1 024 slots ~5 times) of lengths 0..9: prefixes,
    // shared tails and keys that differ in one byte.
    for (let i = 0; i < 20_000; i++) {
      const key = Buffer.from(String(i * 7919).slice(0, 1 + (i % 9)), "latin1");
      if (i % 11 === 0) key[0] = 0xff;
      const value = Buffer.from(`v${i}`);
      memtable.add(key, seq++, TYPE_VALUE, value);
      inserted.set(key.toString("hex"), value.toString());
    }
    for (const [hex, value] of inserted) {
      expect(memtable.get(Buffer.from(hex, "hex"), seq)?.value.toString()).toBe(value);
    }
    for (const absent of ["", "0123456789", "x", "\u00ff\u00ff", "9999999999"]) {
      const key = Buffer.from(absent, "latin1");
      if (!inserted.has(key.toString("hex"))) expect(memtable.get(key, seq)).toBeNull();
    }
    const it = memtable.iterator();
    let count = 0;
    let previous: Buffer | undefined;
    for (it.seekToFirst(); it.valid(); it.next()) {
      if (previous !== undefined && !previous.equals(it.key())) {
        expect(Buffer.compare(previous, it.key())).toBeLessThan(0);
      }
      if (previous === undefined || !previous.equals(it.key())) count++;
      previous = it.key();
    }
    expect(count).toBe(inserted.size);
  });
});

describe("memtable in-place overwrites", () => {
  it("keep one version per key, the newest, and count the bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 8 })), {
          maxLength: 200,
        }),
        (writes) => {
          const memtable = new Memtable(1);
          memtable.overwriteInPlace = true;
          const newest = new Map<number, Uint8Array>();
          let bytes = 0;
          writes.forEach(([k, value], i) => {
            memtable.add(Buffer.from([k]), i + 1, TYPE_VALUE, Buffer.from(value));
            newest.set(k, value);
            bytes += value.length;
          });
          const seen: string[] = [];
          const it = memtable.iterator();
          for (it.seekToFirst(); it.valid(); it.next()) {
            seen.push(`${it.key()[0]}=${it.value().toString("hex")}`);
          }
          const expected = [...newest.keys()]
            .sort((a, b) => a - b)
            .map((k) => `${k}=${Buffer.from(newest.get(k)!).toString("hex")}`);
          expect(seen).toEqual(expected);
          expect(memtable.approximateSizeBytes).toBeGreaterThanOrEqual(bytes);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("memtable pending in-place overwrites", () => {
  it("answer reads, iterators, compaction and later versions like a model while not yet applied", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.tuple(
              fc.constant("write" as const),
              fc.nat(6),
              fc.uint8Array({ maxLength: 12 }),
              fc.boolean(),
            ),
            fc.tuple(fc.constant("read" as const), fc.nat(6), fc.nat()),
            fc.constant(["toggle" as const] as const),
            fc.constant(["compact" as const] as const),
            fc.constant(["iterate" as const] as const),
          ),
          { maxLength: 250, size: "max" },
        ),
        (steps) => {
          const memtable = new Memtable(1);
          // Per key, the versions the memtable must keep: [seq, value hex or "del"], oldest first.
          const model = new Map<number, [number, string][]>();
          let seq = 0;
          let inPlace = true;
          const chunks: Buffer[] = [];
          const iterate = (): string[] => {
            const seen: string[] = [];
            const it = memtable.iterator();
            for (it.seekToFirst(); it.valid(); it.next()) {
              const shown = it.type() === TYPE_DELETION ? "del" : it.value().toString("hex");
              seen.push(`${it.key()[0]}@${it.seq()}=${shown}`);
            }
            return seen;
          };
          const expected = (): string[] =>
            [...model.keys()]
              .sort((a, b) => a - b)
              .flatMap((k) => [...model.get(k)!].reverse().map(([s, hex]) => `${k}@${s}=${hex}`));
          for (const step of steps) {
            if (step[0] === "write") {
              const [, k, bytes, deletion] = step;
              const chunk = Buffer.concat([Buffer.from([0xee, 0xee]), Buffer.from(bytes)]);
              chunks.push(chunk);
              memtable.overwriteInPlace = inPlace;
              const type = deletion ? TYPE_DELETION : TYPE_VALUE;
              const end = deletion ? 2 : chunk.length;
              memtable.addRange(Buffer.from([k]), 0, 1, ++seq, type, chunk, 2, end);
              const list = model.get(k) ?? [];
              const entry: [number, string] = [
                seq,
                deletion ? "del" : Buffer.from(bytes).toString("hex"),
              ];
              if (inPlace && list.length > 0) list[list.length - 1] = entry;
              else list.push(entry);
              model.set(k, list);
            } else if (step[0] === "read") {
              const [, k, at] = step;
              const readSeq = seq === 0 ? 0 : at % (seq + 1);
              const key = Buffer.from([k]);
              const want = [...(model.get(k) ?? [])].reverse().find(([s]) => s <= readSeq);
              // lookup first: the newest-row fast path, before get brings the objects up to date.
              const found = memtable.lookup(key, readSeq, hashBytes(key, 0, 1));
              const shown = found === null ? "del" : found?.toString("hex");
              expect(shown).toBe(want?.[1]);
              const got = memtable.get(key, readSeq);
              const gotShown =
                got === null
                  ? undefined
                  : [got.seq, got.type === TYPE_DELETION ? "del" : got.value.toString("hex")];
              expect(gotShown).toEqual(want);
            } else if (step[0] === "toggle") {
              inPlace = !inPlace;
            } else if (step[0] === "compact") {
              memtable.compactValues();
            } else {
              expect(iterate()).toEqual(expected());
            }
          }
          expect(iterate()).toEqual(expected());
          // After a compaction the memtable no longer reads the chunks values arrived in.
          memtable.compactValues();
          for (const chunk of chunks) chunk.fill(0xff);
          for (const [k, list] of model) {
            const key = Buffer.from([k]);
            const found = memtable.lookup(key, seq, hashBytes(key, 0, 1));
            expect(found === null ? "del" : found?.toString("hex")).toBe(list[list.length - 1]![1]);
          }
          let live = 0;
          for (const list of model.values()) {
            live += 3;
            for (const [, hex] of list) live += (hex === "del" ? 0 : hex.length / 2) + 64;
          }
          expect(memtable.liveSizeBytes).toBe(live);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("crc32c", () => {
  it("computes the same CRC in JS (short inputs) as the native library, and the standard check value", () => {
    // RFC 3720 / iSCSI check value of "123456789".
    expect(jsCrc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(7), (bytes, offset) => {
        // An unaligned view, as log records sit at any offset of a chunk.
        const view = Buffer.concat([Buffer.alloc(offset), Buffer.from(bytes)]).subarray(offset);
        const expected = nativeCrc32c(view) >>> 0;
        expect(jsCrc32c(view)).toBe(expected);
        expect(crc32c(view)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe("memtable value compaction", () => {
  it("keeps every answer, old views and live iterators while dropping overwritten bytes", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.tuple(fc.constant("write" as const), fc.nat(12), fc.uint8Array({ maxLength: 40 })),
            fc.constant(["compact" as const] as const),
            fc.constant(["reader" as const] as const),
          ),
          { maxLength: 300, size: "max" },
        ),
        (steps) => {
          const memtable = new Memtable(1);
          const versions = new Map<number, Buffer[]>();
          const views: [Buffer, string][] = [];
          const chunks: Buffer[] = [];
          let seq = 0;
          let inPlace = true;
          for (const step of steps) {
            if (step[0] === "write") {
              const [, k, bytes] = step;
              // Values arrive in a shared chunk, as from the commit log.
              const chunk = Buffer.concat([Buffer.from([0xee]), Buffer.from(bytes)]);
              chunks.push(chunk);
              memtable.overwriteInPlace = inPlace;
              memtable.addRange(Buffer.from([k]), 0, 1, ++seq, TYPE_VALUE, chunk, 1, chunk.length);
              const value = Buffer.from(bytes);
              const list = versions.get(k) ?? [];
              if (inPlace && list.length > 0) list[list.length - 1] = value;
              else list.push(value);
              versions.set(k, list);
              const got = memtable.get(Buffer.from([k]), seq)!;
              views.push([got.value, value.toString("hex")]);
            } else if (step[0] === "compact") {
              memtable.compactValues();
              expect(memtable.approximateSizeBytes).toBe(memtable.liveSizeBytes);
            } else {
              inPlace = !inPlace; // a reader opened or closed: versions pile up meanwhile
            }
          }
          // An iterator created before the compaction reads the same entries after it.
          const it = memtable.iterator();
          memtable.compactValues();
          // Views handed out before any compaction still hold their bytes.
          for (const [view, hex] of views) expect(view.toString("hex")).toBe(hex);
          // The memtable no longer reads the chunks its entries arrived in (they can be freed).
          for (const chunk of chunks) chunk.fill(0);
          const seen: string[] = [];
          for (it.seekToFirst(); it.valid(); it.next()) {
            seen.push(`${it.key()[0]}:${it.value().toString("hex")}`);
          }
          const expected: string[] = [];
          for (const k of [...versions.keys()].sort((a, b) => a - b)) {
            for (const value of [...versions.get(k)!].reverse()) {
              expected.push(`${k}:${value.toString("hex")}`);
            }
          }
          expect(seen).toEqual(expected);
          // Live size: 3 × key and, per version kept, its value and the per-entry overhead.
          let live = 0;
          for (const list of versions.values()) {
            live += 3;
            for (const value of list) live += value.length + 64;
          }
          expect(memtable.liveSizeBytes).toBe(live);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("log records", () => {
  it("round-trip a batch into a memtable with consecutive sequence numbers", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null })), {
          minLength: 1,
          maxLength: 50,
        }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (ops, firstSeq) => {
          const batch = new WriteBatch();
          for (const [key, value] of ops) {
            if (value === null) batch.delete(key);
            else batch.put(key, value);
          }
          const buffer = Buffer.alloc(batchRecordSize(batch));
          expect(encodeBatchRecord(buffer, 0, batch, firstSeq)).toBe(buffer.length);
          const memtable = new Memtable(1);
          expect(applyBatchPayload(buffer.subarray(9), memtable)).toBe(firstSeq + ops.length - 1);
          // The buffered path inserts while it encodes: the same record, the same memtable.
          const direct = new Memtable(1);
          const again = Buffer.alloc(buffer.length);
          expect(encodeBatchRecord(again, 0, batch, firstSeq, direct)).toBe(buffer.length);
          expect(again.equals(buffer)).toBe(true);
          ops.forEach(([key, value], i) => {
            for (const table of [memtable, direct]) {
              const node = table.get(key, firstSeq + i);
              expect(node?.type).toBe(value === null ? 0 : 1);
              if (value !== null) expect(Buffer.from(value).equals(node!.value)).toBe(true);
            }
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it("store a prefixed put exactly as a put of the concatenation", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(keyArb, fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 })),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (ops) => {
          const prefixed = new WriteBatch();
          const plain = new WriteBatch();
          for (const [key, prefix, value] of ops) {
            prefixed.putPrefixed(key, prefix, value);
            plain.put(key, Buffer.concat([prefix, value]));
          }
          expect(batchRecordSize(prefixed)).toBe(batchRecordSize(plain));
          expect(prefixed.sizeBytes).toBe(plain.sizeBytes);
          const a = Buffer.alloc(batchRecordSize(plain));
          const b = Buffer.alloc(a.length);
          encodeBatchRecord(a, 0, plain, 7);
          encodeBatchRecord(b, 0, prefixed, 7);
          expect(b.equals(a)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("single-operation records", () => {
  it("are byte-identical to a one-operation WriteBatch record", () => {
    fc.assert(
      fc.property(
        keyArb,
        fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (key, value, seq) => {
          const batch =
            value === null ? new WriteBatch().delete(key) : new WriteBatch().put(key, value);
          const expected = Buffer.alloc(batchRecordSize(batch));
          encodeBatchRecord(expected, 0, batch, seq);
          const type = value === null ? 0 : 1;
          const v = Buffer.from(value ?? new Uint8Array(0));
          const got = Buffer.alloc(singleRecordSize(type, key, v));
          expect(encodeSingleRecord(got, 0, type, key, v, seq)).toBe(got.length);
          expect(got.equals(expected)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("varint", () => {
  it("round-trips every 32-bit value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (value) => {
        const buffer = Buffer.alloc(5);
        const end = putVarint32(buffer, 0, value);
        expect(end).toBe(varintLength(value));
        expect(getVarint32(buffer, 0, end)).toBe(end);
        expect(decoded.value).toBe(value);
      }),
    );
  });
});

describe("block cache", () => {
  it("never holds more than its capacity and evicts the least recently used", () => {
    const cache = new BlockCache(1000);
    for (let i = 0; i < 10; i++) cache.insert(i, Buffer.alloc(300));
    expect(cache.sizeBytes).toBeLessThanOrEqual(1000);
    expect(cache.get(9)).toBeDefined();
    expect(cache.get(0)).toBeUndefined();
    cache.insert(100, Buffer.alloc(300));
    cache.get(8);
    cache.insert(101, Buffer.alloc(300));
    expect(cache.get(8)).toBeDefined(); // recently used survives
    expect(cache.get(9)).toBeUndefined();
  });
});
