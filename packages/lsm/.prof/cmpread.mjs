import { existsSync } from "node:fs";
import { open } from "@scaleout/lsm";
import { ClassicLevel } from "classic-level";

const N = 1000000;
const key = (i) => Buffer.from(String(i).padStart(16, "0"), "latin1");
const val = Buffer.alloc(100, 7);
const peer = new ClassicLevel("/tmp/peer-big", {
  keyEncoding: "buffer",
  valueEncoding: "buffer",
  cacheSize: 8 << 20,
  writeBufferSize: 4 << 20,
  blockSize: 4096,
  compression: false,
});
await peer.open();
if (!(await peer.get(key(N - 1)))) {
  for (let i = 0; i < N; i += 10000) {
    const b = peer.batch();
    for (let j = i; j < i + 10000; j++) b.put(key(j), val);
    await b.write();
  }
  await peer.compactRange(key(0), key(N));
}
const ours = await open("/tmp/lsm-big", {
  syncPolicy: "never",
  readMode: process.env.MODE ?? "sync",
});
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
for (let r = 0; r < 3; r++) {
  const o = await win(200000, 64, () => ours.get(key(rnd())));
  const p = await win(200000, 64, () => peer.get(key(rnd())));
  console.log("ours", o, "peer", p, (o / p).toFixed(2));
}
await ours.close();
await peer.close();
