import { open } from "@scaleout/lsm";

const db = await open("/tmp/lsm-big", { syncPolicy: "never" });
const N = 1000000;
const key = (i) => Buffer.from(String(i).padStart(16, "0"), "latin1");
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
let s = 12345;
const rnd = () => {
  s = (s * 1103515245 + 12345) & 0x7fffffff;
  return s % N;
};
for (let r = 0; r < 2; r++)
  console.log(
    "read",
    await win(200000, 64, () => db.get(key(rnd()))),
    db.stats().blockCache.hitRate.toFixed(3),
  );
await db.close();
