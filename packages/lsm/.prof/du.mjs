import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { open } from "@scaleout/lsm";

const dir = mkdtempSync("/tmp/lsm-du-");
const db = await open(dir, { memtableSizeBytes: 32 * 1024, syncPolicy: "never" });
let max = 0,
  maxList = "";
for (let round = 0; round < 30; round++) {
  await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      db.put(Buffer.from(`key-${String(i).padStart(12, "0")}`), Buffer.alloc(100, round)),
    ),
  );
  const files = readdirSync(dir).map((n) => [n, statSync(dir + "/" + n).size]);
  const total = files.reduce((s, [, b]) => s + b, 0);
  if (total > max) {
    max = total;
    maxList =
      files.map(([n, b]) => `${n}:${b}`).join(" ") +
      " | " +
      JSON.stringify(db.stats().levels.filter((l) => l.tables));
  }
}
console.log(max, maxList, db.stats().writeStalls);
await db.close();
rmSync(dir, { recursive: true });
