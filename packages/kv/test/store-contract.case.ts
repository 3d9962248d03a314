/**
 * The contract every KeyValueStore keeps, run against each engine
 * (stores.test.ts): a fast-check model test against a Map (with flushes, so
 * the lsm engine also answers from its tables and row cache), expiry with an
 * injected clock, CAS changes, SCAN's "every key present throughout is
 * returned" guarantee, clear.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import type { KeyValueStore } from "../src/storage/store.js";

export interface StoreHarness {
  store: KeyValueStore;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

const key = fc.constantFrom("a", "b", "c", "d", "\u0000\u00ff");
const value = fc.uint8Array({ maxLength: 16 });

type Operation =
  | { op: "put"; key: string; value: Uint8Array; ttlMs: number; reuse: boolean }
  | { op: "get"; key: string; reuse: boolean }
  | { op: "delete"; key: string; reuse: boolean }
  | { op: "advance"; ms: number }
  | { op: "clear" }
  | { op: "flush" };

/**
 * `reuse`: the key is passed in a scratch buffer shared by every operation
 * with a key of that length, rewritten in place — a store must not mistake
 * the same buffer object for the same key.
 */
const reuse = fc.boolean();
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    op: fc.constant("put" as const),
    key,
    value,
    ttlMs: fc.constantFrom(0, 0, 50, 200),
    reuse,
  }),
  fc.record({ op: fc.constant("get" as const), key, reuse }),
  fc.record({ op: fc.constant("delete" as const), key, reuse }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(10, 100, 300) }),
  fc.constant({ op: "clear" as const }),
  // lsm: the memtable goes to a table, so later reads go through the tables and the row cache.
  fc.constant({ op: "flush" as const }),
);

export function storeContract(open: () => Promise<StoreHarness>): void {
  it("behaves like a map with expiring entries (model test)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const harness = await open();
        const { store } = harness;
        let now = 1_000_000;
        const model = new Map<string, { value: Uint8Array; expiresAtMs: number }>();
        const live = (name: string) => {
          const entry = model.get(name);
          if (entry === undefined) return undefined;
          if (entry.expiresAtMs !== 0 && entry.expiresAtMs <= now) {
            model.delete(name);
            return undefined;
          }
          return entry;
        };
        const scratch = new Map<number, Buffer>();
        const keyOf = (name: string, reused: boolean): Buffer => {
          if (!reused) return Buffer.from(name, "latin1");
          let buffer = scratch.get(name.length);
          if (buffer === undefined) {
            buffer = Buffer.alloc(name.length);
            scratch.set(name.length, buffer);
          }
          buffer.write(name, "latin1");
          return buffer;
        };
        try {
          for (const operation of operations) {
            const keyBytes =
              operation.op === "advance" || operation.op === "clear" || operation.op === "flush"
                ? Buffer.alloc(0)
                : keyOf(operation.key, operation.reuse);
            switch (operation.op) {
              case "put": {
                const expiresAtMs = operation.ttlMs === 0 ? 0 : now + operation.ttlMs;
                await store.put(keyBytes, operation.value, { expiresAtMs, flags: 0 });
                model.set(operation.key, { value: operation.value, expiresAtMs });
                break;
              }
              case "get": {
                const entry = await store.get(keyBytes);
                const expected = live(operation.key);
                expect(entry === undefined ? undefined : Buffer.from(entry.value)).toEqual(
                  expected === undefined ? undefined : Buffer.from(expected.value),
                );
                if (expected !== undefined) expect(entry?.expiresAtMs).toBe(expected.expiresAtMs);
                break;
              }
              case "delete":
                expect(await store.delete(keyBytes)).toBe(live(operation.key) !== undefined);
                model.delete(operation.key);
                break;
              case "advance":
                now += operation.ms;
                harness.advance(operation.ms);
                break;
              case "clear":
                await store.clear();
                model.clear();
                break;
              case "flush":
                await store.flush();
                break;
            }
          }
          const keys: string[] = [];
          for await (const k of store.keys()) keys.push(Buffer.from(k).toString("latin1"));
          const expectedKeys = [...model.keys()].filter((name) => live(name) !== undefined);
          expect(keys.sort()).toEqual(expectedKeys.sort());
        } finally {
          await harness.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it("gives every write a new CAS unless told to keep it", async () => {
    const harness = await open();
    try {
      const first = await harness.store.put(Buffer.from("k"), Buffer.from("1"), {
        expiresAtMs: 0,
        flags: 3,
      });
      const second = await harness.store.put(Buffer.from("k"), Buffer.from("2"), {
        expiresAtMs: 0,
        flags: 3,
      });
      expect(second.cas).not.toBe(first.cas);
      const kept = await harness.store.put(Buffer.from("k"), Buffer.from("2"), {
        expiresAtMs: 0,
        flags: 3,
        cas: second.cas,
      });
      expect(kept.cas).toBe(second.cas);
      expect((await harness.store.get(Buffer.from("k")))?.flags).toBe(3);
    } finally {
      await harness.close();
    }
  });

  it("returns every key present throughout a SCAN, even with writes during it", async () => {
    const harness = await open();
    const { store } = harness;
    try {
      for (let i = 0; i < 100; i++)
        await store.put(Buffer.from(`k${i}`), Buffer.from("v"), { expiresAtMs: 0, flags: 0 });
      const seen = new Set<string>();
      let cursor = "0";
      let round = 0;
      do {
        const page = await store.scan(cursor, 7);
        for (const k of page.keys) seen.add(Buffer.from(k).toString());
        cursor = page.cursor;
        // Churn while scanning: new keys come and go, k0..k99 stay.
        await store.put(Buffer.from(`new${round}`), Buffer.from("v"), { expiresAtMs: 0, flags: 0 });
        if (round > 0) await store.delete(Buffer.from(`new${round - 1}`));
        round++;
      } while (cursor !== "0" && round < 1000);
      for (let i = 0; i < 100; i++) expect(seen.has(`k${i}`)).toBe(true);
      await store.clear();
      expect(await store.count()).toBe(0);
      expect(await store.randomKey()).toBeUndefined();
    } finally {
      await harness.close();
    }
  });

  it("counts an expired key until lazy or active expiry removes it, as Redis's DBSIZE does", async () => {
    const harness = await open();
    const { store } = harness;
    const put = (name: string, expiresAtMs: number) =>
      store.put(Buffer.from(name), Buffer.from("v"), { expiresAtMs, flags: 0 });
    try {
      await put("live", 0);
      // Already expired when written (SET k v EXAT <past>): not readable, but still counted.
      await put("past", 1_000);
      await put("later", 1_000_000 + 50);
      expect(await store.count()).toBe(3);
      const keys: string[] = [];
      for await (const k of store.keys()) keys.push(Buffer.from(k).toString());
      expect(keys.sort()).toEqual(["later", "live"]);
      expect(await store.get(Buffer.from("past"))).toBeUndefined();
      expect(await store.count()).toBe(2);
      harness.advance(100);
      expect(await store.count()).toBe(2);
      let removed = 0;
      for (let round = 0; round < 20 && removed < 1; round++)
        removed += await store.activeExpireCycle();
      expect(removed).toBe(1);
      expect(await store.count()).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it("removes expired keys in the active cycle", async () => {
    const harness = await open();
    const { store } = harness;
    try {
      for (let i = 0; i < 50; i++) {
        await store.put(Buffer.from(`e${i}`), Buffer.from("v"), {
          expiresAtMs: 1_000_000 + 10,
          flags: 0,
        });
      }
      await store.put(Buffer.from("keep"), Buffer.from("v"), { expiresAtMs: 0, flags: 0 });
      harness.advance(100);
      let removed = 0;
      for (let round = 0; round < 20 && removed < 50; round++)
        removed += await store.activeExpireCycle();
      expect(removed).toBe(50);
      expect(store.stats().expiredKeys).toBe(50);
      expect(await store.count()).toBe(1);
    } finally {
      await harness.close();
    }
  });
}
