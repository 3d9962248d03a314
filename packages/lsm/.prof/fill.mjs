import { open } from "@scaleout/lsm";

const dir = "/tmp/lsm-big";
const db = await open(dir, { syncPolicy: "never" });
const N = 1000000;
const key = (i) => Buffer.from(String(i).padStart(16, "0"), "latin1");
const val = Buffer.alloc(100, 7);
async function win(total, w, op) {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: w }, async () => {
      while (next < total) {
        const i = next++;
        await op(i);
      }
    }),
  );
  return Math.round((total * 1000) / (performance.now() - t));
}
console.log("fill", await win(N, 64, (i) => db.put(key(i), val)));
await db.compact();
console.log(JSON.stringify(db.stats().levels.filter((l) => l.tables)));
await db.close();
