/**
 * `lsm` suite, after LevelDB's db_bench: fillseq, fillrandom, overwrite,
 * readrandom (hits and misses), readseq and fillsync, with 16-byte keys and
 * 100-byte values, 1 M entries (--quick: 100 k). Ours (@scaleout/lsm) runs
 * against classic-level 3.0.0 (LevelDB through Node) in the same process,
 * stage by stage alternating which engine goes first, on the same keys and
 * values.
 *
 * Comparable settings: no compression on either side (we do not compress),
 * 4 MiB write buffer / memtable, 4 KiB blocks, 8 MiB block cache, 10 bloom
 * bits per key (classic-level's default filter). Durability: the fill stages
 * use syncPolicy "never" for ours and sync:false for LevelDB (both acknowledge
 * after write(2) to the log, no fsync); fillsync uses "always" and sync:true.
 *
 * Concurrency: a Node server issues many requests at once, so writes and
 * reads are issued by WINDOW concurrent async workers on both sides (fillsync
 * uses SYNC_WRITERS writers: group commit is what it measures).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type BenchContext,
  type BenchResult,
  defineSuite,
  result,
  seededRandom,
} from "@scaleout/bench";
import { type Database, open } from "@scaleout/lsm";
import { tempDir } from "@scaleout/testkit";
import { ClassicLevel } from "classic-level";

const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const WINDOW = 64;
const SYNC_WRITERS = 64;
const PEER = "classic-level@3.0.0";
const CACHE_BYTES = 8 * 1024 * 1024;
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
const BLOCK_BYTES = 4096;

interface Engine {
  name: string;
  put(key: Buffer, value: Buffer): Promise<void>;
  get(key: Buffer): Promise<Uint8Array | undefined>;
  scan(): Promise<number>;
  close(): Promise<void>;
}

/** Walks a whole scan, as readseq does on either engine. */
async function countEntries(entries: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of entries) n++;
  return n;
}

async function openOurs(dir: string, sync: boolean): Promise<{ engine: Engine; db: Database }> {
  const db = await open(dir, {
    syncPolicy: sync ? "always" : "never",
    memtableSizeBytes: WRITE_BUFFER_BYTES,
    blockCacheSizeBytes: CACHE_BYTES,
    blockSizeBytes: BLOCK_BYTES,
    bloomBitsPerKey: 10,
  });
  return {
    db,
    engine: {
      name: "ours",
      put: (k, v) => db.put(k, v),
      get: (k) => db.get(k),
      scan: () => countEntries(db.iterator()),
      close: () => db.close(),
    },
  };
}

async function openPeer(
  dir: string,
  sync: boolean,
): Promise<{ engine: Engine; db: ClassicLevel<Buffer, Buffer> }> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, {
    keyEncoding: "buffer",
    valueEncoding: "buffer",
    cacheSize: CACHE_BYTES,
    writeBufferSize: WRITE_BUFFER_BYTES,
    blockSize: BLOCK_BYTES,
    compression: false,
  });
  await db.open();
  const writeOptions = { sync };
  return {
    db,
    engine: {
      name: PEER,
      put: (k, v) => db.put(k, v, writeOptions),
      get: (k) => db.get(k),
      scan: () => countEntries(db.iterator()),
      close: () => db.close(),
    },
  };
}

function keyOf(index: number): Buffer {
  return Buffer.from(String(index).padStart(KEY_BYTES, "0"), "latin1");
}

/** A key that sorts among the present ones but is never written (the last digit is replaced by "x"). */
function missingKeyOf(index: number): Buffer {
  const key = keyOf(index);
  key[KEY_BYTES - 1] = 0x78;
  return key;
}

/** Runs `total` operations through `window` concurrent workers; returns ops per second. */
async function runWindow(
  total: number,
  window: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return (total * 1000) / (performance.now() - start);
}

/** Sum of the Write(MB) column of LevelDB's "leveldb.stats" (flush and compaction output). */
async function peerCompactionWriteMiB(db: ClassicLevel<Buffer, Buffer>): Promise<number> {
  const text = await db.getProperty("leveldb.stats");
  let total = 0;
  for (const line of text.split("\n")) {
    const columns = line.trim().split(/\s+/);
    if (columns.length === 6 && /^\d+$/.test(columns[0]!)) total += Number(columns[5]);
  }
  return total;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  return total;
}

export default defineSuite({
  name: "lsm",
  description: "storage engine (db_bench stages) vs classic-level (LevelDB)",
  async run(context: BenchContext): Promise<BenchResult[]> {
    const entries = context.quick ? 100_000 : 1_000_000;
    const reads = context.quick ? 100_000 : 1_000_000;
    const syncWrites = context.quick ? 5_000 : 20_000;
    const scratch = tempDir("lsm-bench");
    const root = scratch.dir;
    const results: BenchResult[] = [];
    try {
      const random = seededRandom(42);
      const valuePool = Buffer.alloc(1 << 20);
      for (let i = 0; i < valuePool.length; i++) valuePool[i] = Math.floor(random() * 256);
      const valueAt = (i: number) => {
        const offset = (i * 7919) % (valuePool.length - VALUE_BYTES);
        return valuePool.subarray(offset, offset + VALUE_BYTES);
      };
      // The same random sequences for both engines.
      const randomOrder = Uint32Array.from({ length: entries }, () =>
        Math.floor(random() * entries),
      );
      const overwriteOrder = Uint32Array.from({ length: entries }, () =>
        Math.floor(random() * entries),
      );
      const readOrder = Uint32Array.from({ length: reads }, () => Math.floor(random() * entries));

      const stage = async (
        name: string,
        measure: (engine: "ours" | "peer") => Promise<number>,
        unit = "ops/s",
        notes?: () => BenchResult["notes"],
      ) => {
        const index = results.length;
        // Alternate which engine goes first from stage to stage (page cache and CPU drift).
        const order: ("ours" | "peer")[] = index % 2 === 0 ? ["ours", "peer"] : ["peer", "ours"];
        const figures: Record<string, number> = {};
        for (const side of order) {
          context.progress(`${name}: ${side === "ours" ? "ours" : PEER}`);
          figures[side] = await measure(side);
        }
        const r = result(
          name,
          unit,
          figures.ours!,
          { name: PEER, value: figures.peer! },
          notes?.(),
        );
        results.push(r);
        context.progress(
          `${name}: ours ${Math.round(figures.ours!)} ${unit}, peer ${Math.round(figures.peer!)} ${unit}`,
        );
      };

      // fillseq: keys in order into a fresh database.
      {
        const ours = await openOurs(join(root, "ours-seq"), false);
        const peer = await openPeer(join(root, "peer-seq"), false);
        await stage("fillseq", (side) =>
          runWindow(entries, WINDOW, (i) =>
            (side === "ours" ? ours : peer).engine.put(keyOf(i), valueAt(i)),
          ),
        );
        await ours.engine.close();
        await peer.engine.close();
      }

      // fillrandom, overwrite, readrandom, readseq share one database per engine.
      const ours = await openOurs(join(root, "ours-random"), false);
      const peer = await openPeer(join(root, "peer-random"), false);
      const engineOf = (side: "ours" | "peer") => (side === "ours" ? ours.engine : peer.engine);
      await stage("fillrandom", (side) =>
        runWindow(entries, WINDOW, (i) => engineOf(side).put(keyOf(randomOrder[i]!), valueAt(i))),
      );
      let overwriteStats = ours.db.stats();
      let peerWrittenMiB = 0;
      await stage(
        "overwrite",
        async (side) => {
          const ops = await runWindow(entries, WINDOW, (i) =>
            engineOf(side).put(keyOf(overwriteOrder[i]!), valueAt(i + 1)),
          );
          if (side === "peer") peerWrittenMiB = await peerCompactionWriteMiB(peer.db);
          return ops;
        },
        "ops/s",
        () => {
          overwriteStats = ours.db.stats();
          const userMiB = overwriteStats.userBytesWritten / 2 ** 20;
          return {
            writeAmplification: Number(overwriteStats.writeAmplification.toFixed(2)),
            compactionMiB: Math.round(overwriteStats.compaction.bytesWritten / 2 ** 20),
            flushMiB: Math.round(overwriteStats.flush.bytesWritten / 2 ** 20),
            // LevelDB's stats count flush + compaction output; adding the log (~user bytes) makes it comparable.
            peerFlushAndCompactionMiB: Math.round(peerWrittenMiB),
            peerWriteAmplificationApprox: Number(((peerWrittenMiB + userMiB) / userMiB).toFixed(2)),
            stallMs: overwriteStats.writeStalls.stallMs,
            stallStops: overwriteStats.writeStalls.stops,
            stallSlowdowns: overwriteStats.writeStalls.slowdowns,
            oursDiskMiB: Math.round(dirBytes(join(root, "ours-random")) / 2 ** 20),
            peerDiskMiB: Math.round(dirBytes(join(root, "peer-random")) / 2 ** 20),
          };
        },
      );
      // Let both finish background compaction so reads see a settled tree.
      await ours.db.flush();
      await peer.db.compactRange(keyOf(0), keyOf(entries)).catch(() => undefined);
      await ours.db.compact();
      let found = 0;
      await stage(
        "readrandom (hits)",
        async (side) => {
          found = 0;
          const ops = await runWindow(reads, WINDOW, async (i) => {
            if ((await engineOf(side).get(keyOf(readOrder[i]!))) !== undefined) found++;
          });
          return ops;
        },
        "ops/s",
        () => ({ foundFraction: Number((found / reads).toFixed(3)) }),
      );
      const before = ours.db.stats().bloom;
      await stage("readrandom (misses)", (side) =>
        runWindow(reads, WINDOW, (i) => engineOf(side).get(missingKeyOf(readOrder[i]!))),
      );
      const after = ours.db.stats().bloom;
      const useful = after.useful - before.useful;
      const falsePositive = after.falsePositive - before.falsePositive;
      results[results.length - 1]!.notes = {
        bloomFalsePositiveRate: Number(
          (falsePositive / Math.max(1, useful + falsePositive)).toFixed(4),
        ),
        bloomChecks: useful + falsePositive,
      };
      let scanned = 0;
      await stage("readseq", async (side) => {
        const start = performance.now();
        scanned = await engineOf(side).scan();
        return (scanned * 1000) / (performance.now() - start);
      });
      const finalStats = ours.db.stats();
      results[results.length - 1]!.notes = {
        entries: scanned,
        levels: finalStats.levels
          .filter((l) => l.tables > 0)
          .map((l) => `L${l.level}:${l.tables}`)
          .join(" "),
        blockCacheHitRate: Number(finalStats.blockCache.hitRate.toFixed(3)),
      };
      await ours.engine.close();
      await peer.engine.close();

      // fillsync: fsync before every acknowledgement, SYNC_WRITERS concurrent writers.
      {
        const oursSync = await openOurs(join(root, "ours-sync"), true);
        const peerSync = await openPeer(join(root, "peer-sync"), true);
        await stage(
          `fillsync (${SYNC_WRITERS} writers)`,
          (side) =>
            runWindow(syncWrites, SYNC_WRITERS, (i) =>
              (side === "ours" ? oursSync : peerSync).engine.put(
                keyOf(randomOrder[i]!),
                valueAt(i),
              ),
            ),
          "ops/s",
        );
        await oursSync.engine.close();
        await peerSync.engine.close();
      }
    } finally {
      scratch.cleanup();
    }
    return results;
  },
});
