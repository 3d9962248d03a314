/** Both engines run the same store contract (store-contract.case.ts). */
import { rmSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LsmStore } from "../src/storage/lsm.js";
import { MemoryStore } from "../src/storage/memory.js";
import { tempDir } from "./helpers.js";
import { storeContract } from "./store-contract.case.js";

describe("memory engine contract", () => {
  storeContract(async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ maxMemoryBytes: 0, eviction: "noeviction", clock: () => now });
    return {
      store,
      advance: (ms) => {
        now += ms;
      },
      close: () => store.close(),
    };
  });
});

describe("lsm engine contract", () => {
  storeContract(async () => {
    let now = 1_000_000;
    const dir = tempDir("lsm-contract");
    const store = await LsmStore.open({ dataDir: dir, appendfsync: "no", clock: () => now });
    return {
      store,
      advance: (ms) => {
        now += ms;
      },
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

describe("lsm row cache", () => {
  it("never answers with a value a flushed write replaced", async () => {
    const dir = tempDir("lsm-row-cache");
    const store = await LsmStore.open({ dataDir: dir, appendfsync: "no" });
    const key = Buffer.from("k");
    const write = (value: string) =>
      store.put(key, Buffer.from(value), { expiresAtMs: 0, flags: 0 });
    const read = async () => {
      const entry = await store.get(key);
      return entry === undefined ? undefined : Buffer.from(entry.value).toString();
    };
    try {
      await write("v1");
      await store.flush();
      // Read from the tables: now cached.
      expect(await read()).toBe("v1");
      expect(await read()).toBe("v1");
      await write("v2");
      // The memtable answers first.
      expect(await read()).toBe("v2");
      await store.flush();
      // The memtable is empty again; the cached v1 must not come back.
      expect(await read()).toBe("v2");
      await store.delete(key);
      await store.flush();
      expect(await read()).toBeUndefined();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is warmed by a flush: flushed keys are read without touching the tables", async () => {
    const dir = tempDir("lsm-row-cache-warm");
    let now = 1_000_000;
    const store = await LsmStore.open({ dataDir: dir, appendfsync: "no", clock: () => now });
    const key = (i: number) => Buffer.from(`key:${i}`);
    try {
      for (let i = 0; i < 100; i++) {
        await store.put(key(i), Buffer.from(`value ${i}`), {
          expiresAtMs: i === 7 ? now + 10 : 0,
          flags: i,
        });
      }
      await store.delete(key(3));
      now += 20; // key:7 expires before the flush
      await store.flush();
      const cache = () => store.database.stats().blockCache;
      const before = cache();
      for (let i = 0; i < 100; i++) {
        const entry = await store.get(key(i));
        if (i === 3 || i === 7) {
          expect(entry).toBeUndefined();
          continue;
        }
        expect(Buffer.from(entry!.value).toString()).toBe(`value ${i}`);
        expect(entry!.flags).toBe(i);
      }
      // 98 live keys came from the row cache; only the two absent ones reached the tables.
      const after = cache();
      expect(after.hits + after.misses - before.hits - before.misses).toBeLessThanOrEqual(2);
      expect(store.stats().engine).toContainEqual(["lsm_row_cache_entries", 98]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers like a map through any mix of writes, deletes, flushes and reads (model test)", async () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant("put" as const), key: fc.nat(15), value: fc.nat(1000) }),
      fc.record({ op: fc.constant("delete" as const), key: fc.nat(15) }),
      fc.record({ op: fc.constant("get" as const), key: fc.nat(15) }),
      fc.record({ op: fc.constant("flush" as const) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 80 }), fc.nat(3), async (commands, size) => {
        const dir = tempDir(`lsm-row-cache-model-${run++}`);
        // Tiny caches (down to one entry) make evictions part of the sequence.
        const rowCacheSizeBytes = [0, 110, 400, 1 << 20][size]!;
        const store = await LsmStore.open({ dataDir: dir, appendfsync: "no", rowCacheSizeBytes });
        const model = new Map<number, string>();
        try {
          for (const c of commands) {
            if (c.op === "flush") {
              await store.flush();
              continue;
            }
            const key = Buffer.from(`k${c.key}`);
            if (c.op === "put") {
              const value = `v${c.value}`;
              await store.put(key, Buffer.from(value), { expiresAtMs: 0, flags: 0 });
              model.set(c.key, value);
            } else if (c.op === "delete") {
              await store.delete(key);
              model.delete(c.key);
            } else {
              const entry = await store.get(key);
              const got = entry === undefined ? undefined : Buffer.from(entry.value).toString();
              expect(got).toBe(model.get(c.key));
            }
          }
          for (let k = 0; k < 16; k++) {
            const entry = await store.get(Buffer.from(`k${k}`));
            const got = entry === undefined ? undefined : Buffer.from(entry.value).toString();
            expect(got).toBe(model.get(k));
          }
        } finally {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("memory engine value buffers", () => {
  it("overwrite in place only values nobody was handed (model test)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom("put", "put", "get", "putMany"),
            fc.nat(4),
            // Few lengths, so same-length overwrites (the in-place case) are common.
            fc.uint8Array({ minLength: 2, maxLength: 3 }),
          ),
          { maxLength: 200, size: "max" },
        ),
        (steps) => {
          const store = new MemoryStore({ maxMemoryBytes: 0, eviction: "noeviction" });
          const model = new Map<number, string>();
          // Everything the store handed out, with the bytes it had then.
          const handed: [Uint8Array, string][] = [];
          for (const [op, k, bytes] of steps) {
            const key = Buffer.from(`k${k}`);
            // The caller's buffer is reused after the call, as a socket chunk is.
            const value = Buffer.from(bytes);
            const hex = value.toString("hex");
            if (op === "put") {
              const entry = store.put(key, value, { expiresAtMs: 0, flags: 0 });
              handed.push([entry.value, hex]);
              model.set(k, hex);
            } else if (op === "putMany") {
              store.putMany([{ key, value, options: { expiresAtMs: 0, flags: 0 } }]);
              model.set(k, hex);
            } else {
              const entry = store.get(key);
              expect(
                entry === undefined ? undefined : Buffer.from(entry.value).toString("hex"),
              ).toBe(model.get(k));
              if (entry !== undefined) handed.push([entry.value, model.get(k)!]);
            }
            value.fill(0xab);
          }
          for (const [view, hex] of handed) {
            // A put hands back the caller's own buffer (filled since); reads must keep their bytes.
            if (view.every((byte) => byte === 0xab)) continue;
            expect(Buffer.from(view).toString("hex")).toBe(hex);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("lsm engine INCR fast path (incrementSmall)", () => {
  it("adds to a small integer in the memtables, keeps flags, and declines everything else", async () => {
    const dir = tempDir("lsm-incr");
    let now = 1_000_000;
    const store = await LsmStore.open({ dataDir: dir, appendfsync: "no", clock: () => now });
    try {
      const key = (name: string) => Buffer.from(name);
      const plain = { expiresAtMs: 0, flags: 0 };
      expect(store.incrementSmall(key("absent"), 1)).toBeUndefined();
      await store.put(key("n"), Buffer.from("41"), { expiresAtMs: 0, flags: 7 });
      expect(store.incrementSmall(key("n"), 1)).toBe(42);
      expect(store.incrementSmall(key("n"), -50)).toBe(-8);
      const n = await store.get(key("n"));
      expect(Buffer.from(n!.value).toString()).toBe("-8");
      expect(n!.flags).toBe(7);
      // Not small integers, an expiry, a deleted key: the general path's business.
      for (const text of ["x", "01", " 1", "1234567890123456", ""]) {
        await store.put(key("v"), Buffer.from(text), plain);
        expect(store.incrementSmall(key("v"), 1)).toBeUndefined();
        expect(Buffer.from((await store.get(key("v")))!.value).toString()).toBe(text);
      }
      await store.put(key("ttl"), Buffer.from("5"), { expiresAtMs: now + 60_000, flags: 0 });
      expect(store.incrementSmall(key("ttl"), 1)).toBeUndefined();
      await store.delete(key("n"));
      expect(store.incrementSmall(key("n"), 1)).toBeUndefined();
      // Values only in the tables (after a flush) are not at hand without I/O.
      await store.put(key("flushed"), Buffer.from("1"), plain);
      await store.flush();
      expect(store.incrementSmall(key("flushed"), 1)).toBeUndefined();
      now += 1;
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
