/** Both engines run the same store contract (store-contract.case.ts). */
import { rmSync } from "node:fs";
import { describe } from "vitest";
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
