import fs from "node:fs";

const files = fs
  .readdirSync("/tmp/lsm-big")
  .filter((n) => n.endsWith(".sst"))
  .map((n) => {
    const p = "/tmp/lsm-big/" + n;
    return { fd: fs.openSync(p, "r"), size: fs.statSync(p).size };
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
let s = 1;
const rnd = (n) => {
  s = (s * 1103515245 + 12345) & 0x7fffffff;
  return s % n;
};
const pick = () => {
  const f = files[rnd(files.length)];
  return [f.fd, rnd(Math.floor(f.size / 4101) - 1) * 4101];
};
for (let r = 0; r < 2; r++) {
  console.log(
    "async",
    await win(
      200000,
      64,
      () =>
        new Promise((res, rej) => {
          const [fd, off] = pick();
          fs.read(fd, Buffer.allocUnsafe(4101), 0, 4101, off, (e, n) => (e ? rej(e) : res(n)));
        }),
    ),
  );
  console.log(
    "sync",
    await win(200000, 64, async () => {
      const [fd, off] = pick();
      return fs.readSync(fd, Buffer.allocUnsafe(4101), 0, 4101, off);
    }),
  );
}
