import { compareKeys } from "../dist/internal-key.js";

const keys = Array.from({ length: 512 }, (_, i) => Buffer.from(String(i * 1953).padStart(16, "0")));
const probes = Array.from({ length: 1000 }, (_, i) =>
  Buffer.from(String(i * 997).padStart(16, "0")),
);
function search(cmp) {
  let s = 0;
  for (const p of probes) {
    let lo = 0,
      hi = keys.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (cmp(keys[m], p) < 0) lo = m + 1;
      else hi = m;
    }
    s += lo;
  }
  return s;
}
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  for (let i = 0; i < 200; i++) search(compareKeys);
  console.log("js", (((performance.now() - t) * 1e6) / 200000).toFixed(0), "ns/search");
  t = performance.now();
  for (let i = 0; i < 200; i++) search(Buffer.compare);
  console.log("native", (((performance.now() - t) * 1e6) / 200000).toFixed(0), "ns/search");
}
