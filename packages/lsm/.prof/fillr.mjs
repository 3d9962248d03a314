import { rmSync } from "node:fs";
import { open } from "@scaleout/lsm";

rmSync("/tmp/lsm-wt", { recursive: true, force: true });
const db = await open("/tmp/lsm-wt", { syncPolicy: "never" });
const key = (i) => Buffer.from(String(i).padStart(16, "0"), "latin1");
const val = Buffer.alloc(100, 7);
let next = 0;
const N = 500000;
let t = performance.now();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < N) {
      const i = next++;
      await db.put(key((i * 7919) % N), val);
    }
  }),
);
console.log(
  "fill",
  Math.round((N * 1000) / (performance.now() - t)),
  JSON.stringify(db.stats().writeStalls),
  JSON.stringify(db.stats().compaction),
);
t = performance.now();
await db.compact();
console.log("compact ms", Math.round(performance.now() - t), JSON.stringify(db.stats().compaction));
await db.close();
rmSync("/tmp/lsm-wt", { recursive: true, force: true });
