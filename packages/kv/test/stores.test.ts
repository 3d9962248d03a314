/** Both engines run the same store contract (store-contract.case.ts). */
import { rmSync } from "node:fs";
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
});
