/**
 * Child process of buffered-writes.test.ts: writes on the buffered path
 * (putBuffered, with and without a prefix, and two-key writeBuffered batches),
 * a few dozen per event-loop turn, calls commitBuffered() and only then prints
 * "buffered <key>" for each of them, as a server acknowledges a client. When
 * the buffered path refuses a write (false: policy "always", memtable full,
 * stall) it takes the queued path (put/write) and prints "queued <key>" once
 * that resolves. The parent kills it with SIGKILL. Values come from valueFor.
 *
 * usage: node --import tsx crash-buffered-writer.ts <dir> <syncPolicy> <round>
 */
import { open, type SyncPolicy, WriteBatch } from "../../src/index.js";
import { valueFor } from "./crash-values.js";

const [dir, policy, round] = process.argv.slice(2) as [string, SyncPolicy, string];
const WRITES_PER_TURN = 40;

const db = await open(dir, {
  syncPolicy: policy,
  memtableSizeBytes: 64 * 1024,
  blockSizeBytes: 1024,
});

let pendingAcks: string[] = [];

/** Acknowledges the buffered writes: commitBuffered() first, then the lines. */
function acknowledgeBuffered(): void {
  if (pendingAcks.length === 0) return;
  db.commitBuffered();
  process.stdout.write(pendingAcks.map((key) => `buffered ${key}\n`).join(""));
  pendingAcks = [];
}

for (let n = 0; ; n++) {
  const key = `r${round}-${String(n).padStart(6, "0")}`;
  const value = valueFor(key);
  if (n % 5 === 4) {
    const second = `${key}-b`;
    const batch = new WriteBatch()
      .put(Buffer.from(key), value)
      .put(Buffer.from(second), valueFor(second));
    if (db.writeBuffered(batch)) {
      pendingAcks.push(key, second);
    } else {
      acknowledgeBuffered();
      await db.write(batch);
      process.stdout.write(`queued ${key}\nqueued ${second}\n`);
    }
  } else {
    // Every other put passes the value's first bytes as the prefix (stored in front of the rest).
    const done =
      n % 2 === 0
        ? db.putBuffered(Buffer.from(key), value)
        : db.putBuffered(Buffer.from(key), value.subarray(7), value.subarray(0, 7));
    if (done) {
      pendingAcks.push(key);
    } else {
      acknowledgeBuffered();
      await db.put(Buffer.from(key), value);
      process.stdout.write(`queued ${key}\n`);
    }
  }
  if (n % WRITES_PER_TURN === WRITES_PER_TURN - 1) {
    acknowledgeBuffered();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
