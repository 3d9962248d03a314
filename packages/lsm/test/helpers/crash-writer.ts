/**
 * Child process of crash.test.ts: opens the database and writes as fast as it
 * can from several concurrent writers (puts and two-key batches), printing
 * "ack <key>" on stdout after each write is acknowledged. The parent kills it
 * with SIGKILL at a random moment. Values are derived from keys (valueFor), so
 * the parent can check every value it finds.
 *
 * usage: node --import tsx crash-writer.ts <dir> <syncPolicy> <round>
 */
import { open, type SyncPolicy, WriteBatch } from "../../src/index.js";
import { valueFor } from "./crash-values.js";

const [dir, policy, round] = process.argv.slice(2) as [string, SyncPolicy, string];
const WRITERS = 8;

const db = await open(dir, {
  syncPolicy: policy,
  memtableSizeBytes: 64 * 1024,
  blockSizeBytes: 1024,
});
process.stdout.write("ready\n");

async function writer(id: number): Promise<never> {
  for (let n = 0; ; n++) {
    const key = `r${round}-w${id}-${String(n).padStart(6, "0")}`;
    if (n % 5 === 4) {
      const second = `${key}-b`;
      await db.write(
        new WriteBatch()
          .put(Buffer.from(key), valueFor(key))
          .put(Buffer.from(second), valueFor(second)),
      );
      process.stdout.write(`ack ${key}\nack ${second}\n`);
    } else {
      await db.put(Buffer.from(key), valueFor(key));
      process.stdout.write(`ack ${key}\n`);
    }
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(id)));
