/**
 * The buffered write path (putBuffered / deleteBuffered / writeBuffered,
 * commitBuffered, lookup / lookupMemtables) against a Map model:
 * - random sequences of buffered puts (with and without a prefix), deletes and
 *   batches, mixed with queued writes, commits, event-loop turns, gets,
 *   lookups, scans, flushes and reopens (close + open), under "everysec" and
 *   "never"; every read must agree with the model, and a buffered write must
 *   be visible to lookup and lookupMemtables at once, synchronously;
 * - the contract's refusals: false (and nothing done) under "always", while
 *   queued writes are pending (order), once close() has started;
 * - a writer process that acknowledges buffered writes only after
 *   commitBuffered() is killed with SIGKILL: every acknowledged write survives
 *   the reopen, batches stay atomic; under "always" the buffered path refuses
 *   every write and the writer's fallback (put/write, fsynced) is what survives.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exitOf, stopChild, tempDir } from "@scaleout/testkit";
import * as fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Database,
  MAX_KEY_SIZE_BYTES,
  open,
  type SyncPolicy,
  WriteBatch,
} from "../src/index.js";
import { collect, FlushCommand, tempDirPerTest } from "./helpers/common.js";
import { valueFor } from "./helpers/crash-values.js";

type ModelMap = Map<string, string>;

interface Real {
  db: Database;
  dir: string;
  policy: SyncPolicy;
  /** Writes that took the buffered path / fell back to the queued path (the run covers both). */
  buffered: number;
  fallbacks: number;
}

const optionsFor = (policy: SyncPolicy) => ({
  // Small memtables: buffered writes meet "memtable full" (false) and flushes within short runs.
  memtableSizeBytes: 4096,
  blockSizeBytes: 256,
  syncPolicy: policy,
});

// A small key space so overwrites, deletes and range edges collide often.
const keyArb = fc.integer({ min: 0, max: 15 }).map((n) => `k${String(n).padStart(3, "0")}`);
const valueArb = fc.string({ minLength: 0, maxLength: 60 });

const text = (bytes: Uint8Array | undefined | null): string | undefined | null =>
  bytes === undefined || bytes === null ? bytes : Buffer.from(bytes).toString("utf8");

function hex(value: string): string {
  return Buffer.from(value, "utf8").toString("hex");
}

function expectedScan(
  data: ModelMap,
  options: { gte?: string | undefined; lt?: string | undefined; reverse: boolean; limit: number },
): [string, string][] {
  let entries = [...data.entries()].sort(([a], [b]) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  const { gte, lt } = options;
  if (gte !== undefined)
    entries = entries.filter(([k]) => Buffer.compare(Buffer.from(k), Buffer.from(gte)) >= 0);
  if (lt !== undefined)
    entries = entries.filter(([k]) => Buffer.compare(Buffer.from(k), Buffer.from(lt)) < 0);
  if (options.reverse) entries.reverse();
  if (options.limit >= 0) entries = entries.slice(0, options.limit);
  return entries.map(([k, v]) => [hex(k), hex(v)]);
}

/** What a fresh open of `dir` holds, in key order (hex pairs, as collect gives them). */
async function contentsAfterReopen(dir: string, policy: SyncPolicy): Promise<[string, string][]> {
  const db = await open(dir, optionsFor(policy));
  try {
    return await collect(db.iterator());
  } finally {
    await db.close();
  }
}

/** A buffered write is visible at once: lookupMemtables and lookup answer synchronously. */
function expectVisibleNow(db: Database, key: string, value: string | undefined): void {
  expect(text(db.lookupMemtables(Buffer.from(key)))).toBe(value === undefined ? null : value);
  const found = db.lookup(Buffer.from(key));
  expect(found).not.toBeInstanceOf(Promise);
  expect(text(found as Uint8Array | undefined)).toBe(value);
}

class BufferedPutCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly prefix: string | undefined,
  ) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    // With a prefix, the stored value is prefix + value.
    const stored = (this.prefix ?? "") + this.value;
    const key = Buffer.from(this.key);
    const done =
      this.prefix === undefined
        ? real.db.putBuffered(key, Buffer.from(this.value))
        : real.db.putBuffered(key, Buffer.from(this.value), Buffer.from(this.prefix));
    if (done) {
      real.buffered++;
      expectVisibleNow(real.db, this.key, stored);
    } else {
      // The contract: false means nothing was done; take the queued path.
      real.fallbacks++;
      await real.db.put(key, Buffer.from(stored));
    }
    model.set(this.key, stored);
  }
  toString = () =>
    `putBuffered(${this.key}, ${JSON.stringify(this.value)}${this.prefix === undefined ? "" : `, prefix ${JSON.stringify(this.prefix)}`})`;
}

class BufferedDeleteCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    if (real.db.deleteBuffered(Buffer.from(this.key))) {
      real.buffered++;
      expectVisibleNow(real.db, this.key, undefined);
    } else {
      real.fallbacks++;
      await real.db.delete(Buffer.from(this.key));
    }
    model.delete(this.key);
  }
  toString = () => `deleteBuffered(${this.key})`;
}

class BufferedBatchCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(readonly ops: { key: string; value: string | null }[]) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    const batch = new WriteBatch();
    for (const op of this.ops) {
      if (op.value === null) batch.delete(Buffer.from(op.key));
      else batch.put(Buffer.from(op.key), Buffer.from(op.value));
    }
    const done = real.db.writeBuffered(batch);
    if (done) real.buffered++;
    else {
      real.fallbacks++;
      await real.db.write(batch);
    }
    for (const op of this.ops) {
      if (op.value === null) model.delete(op.key);
      else model.set(op.key, op.value);
    }
    if (done) for (const op of this.ops) expectVisibleNow(real.db, op.key, model.get(op.key));
  }
  toString = () => `writeBuffered(${JSON.stringify(this.ops)})`;
}

/**
 * A queued put still in flight, then a buffered put of the same key: the
 * buffered path must refuse (writes queued ahead keep their order), and the
 * later write wins.
 */
class QueuedThenBufferedCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(
    readonly key: string,
    readonly first: string,
    readonly second: string,
  ) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    const key = Buffer.from(this.key);
    const queued = real.db.put(key, Buffer.from(this.first));
    expect(real.db.putBuffered(key, Buffer.from(this.second))).toBe(false);
    expect(real.db.deleteBuffered(key)).toBe(false);
    expect(real.db.writeBuffered(new WriteBatch().put(key, Buffer.from(this.second)))).toBe(false);
    real.fallbacks++;
    const later = real.db.put(key, Buffer.from(this.second));
    await Promise.all([queued, later]);
    model.set(this.key, this.second);
    expect(text(await real.db.get(key))).toBe(this.second);
  }
  toString = () => `put(${this.key}) in flight, then putBuffered(${this.key})`;
}

class CommitCommand implements fc.AsyncCommand<ModelMap, Real> {
  check = () => true;
  async run(_model: ModelMap, real: Real): Promise<void> {
    real.db.commitBuffered();
    // Idempotent: nothing left pending.
    real.db.commitBuffered();
  }
  toString = () => "commitBuffered()";
}

/** One event-loop turn: the engine's own scheduled commit runs. */
class TurnCommand implements fc.AsyncCommand<ModelMap, Real> {
  check = () => true;
  async run(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString = () => "turn()";
}

class GetCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(
    readonly key: string,
    readonly how: "get" | "lookup" | "lookupMemtables",
  ) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    const key = Buffer.from(this.key);
    const expected = model.get(this.key);
    if (this.how === "lookupMemtables") {
      // The memtables know the newest version (null: deleted) or nothing (the tables may hold it).
      const found = real.db.lookupMemtables(key);
      if (found !== undefined) expect(text(found)).toBe(expected === undefined ? null : expected);
      return;
    }
    // lookup answers synchronously or with a promise (a table block to read): either way the same.
    const found = this.how === "get" ? await real.db.get(key) : await real.db.lookup(key);
    expect(text(found)).toBe(expected);
  }
  toString = () => `${this.how}(${this.key})`;
}

class ScanCommand implements fc.AsyncCommand<ModelMap, Real> {
  constructor(
    readonly gte: string | undefined,
    readonly lt: string | undefined,
    readonly reverse: boolean,
    readonly limit: number,
  ) {}
  check = () => true;
  async run(model: ModelMap, real: Real): Promise<void> {
    const got = await collect(
      real.db.iterator({
        ...(this.gte !== undefined ? { gte: Buffer.from(this.gte) } : {}),
        ...(this.lt !== undefined ? { lt: Buffer.from(this.lt) } : {}),
        reverse: this.reverse,
        limit: this.limit,
      }),
    );
    expect(got).toEqual(expectedScan(model, this));
  }
  toString = () =>
    `scan(gte=${this.gte}, lt=${this.lt}, reverse=${this.reverse}, limit=${this.limit})`;
}

/** close() writes what is still buffered; everything is there after open. */
class ReopenCommand implements fc.AsyncCommand<ModelMap, Real> {
  check = () => true;
  async run(_model: ModelMap, real: Real): Promise<void> {
    await real.db.close();
    real.db = await open(real.dir, optionsFor(real.policy));
  }
  toString = () => "reopen()";
}

const commands = [
  fc
    .tuple(keyArb, valueArb, fc.option(fc.string({ maxLength: 8 }), { nil: undefined }))
    .map(([k, v, p]) => new BufferedPutCommand(k, v, p)),
  fc.tuple(keyArb, valueArb).map(([k, v]) => new BufferedPutCommand(k, v, undefined)),
  keyArb.map((k) => new BufferedDeleteCommand(k)),
  fc
    .array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), {
      minLength: 0,
      maxLength: 8,
    })
    .map((ops) => new BufferedBatchCommand(ops)),
  fc.tuple(keyArb, valueArb, valueArb).map(([k, a, b]) => new QueuedThenBufferedCommand(k, a, b)),
  fc.constant(new CommitCommand()),
  fc.constant(new TurnCommand()),
  fc
    .tuple(
      keyArb,
      fc.constantFrom("get", "lookup", "lookupMemtables") as fc.Arbitrary<GetCommand["how"]>,
    )
    .map(([k, how]) => new GetCommand(k, how)),
  fc
    .tuple(
      fc.option(keyArb, { nil: undefined }),
      fc.option(keyArb, { nil: undefined }),
      fc.boolean(),
      fc.integer({ min: -1, max: 10 }),
    )
    .map(([gte, lt, reverse, limit]) => new ScanCommand(gte, lt, reverse, limit)),
  fc.constant(new FlushCommand<ModelMap>()),
  fc.constant(new ReopenCommand()),
];

describe("buffered writes against a Map model", () => {
  const fresh = tempDirPerTest("lsm-buffered");

  for (const policy of ["everysec", "never"] as const) {
    it(`agrees with the model through buffered/queued writes, commits, reads, scans, flushes and reopens (${policy})`, async () => {
      let buffered = 0;
      let fallbacks = 0;
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 120, size: "+1" }), async (cmds) => {
          const dir = fresh();
          const real: Real = {
            db: await open(dir, optionsFor(policy)),
            dir,
            policy,
            buffered: 0,
            fallbacks: 0,
          };
          const model: ModelMap = new Map();
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            // Whatever was left buffered: a clean close writes it, open finds it all.
            await real.db.close();
            real.db = await open(dir, optionsFor(policy));
            expect(await collect(real.db.iterator())).toEqual(
              expectedScan(model, { reverse: false, limit: -1 }),
            );
            buffered += real.buffered;
            fallbacks += real.fallbacks;
          } finally {
            await real.db.close();
          }
        }),
        { numRuns: 30 },
      );
      // Both paths were exercised.
      expect(buffered).toBeGreaterThan(0);
      expect(fallbacks).toBeGreaterThan(0);
    });
  }

  it('refuses every buffered write under "always" and does nothing', async () => {
    const dir = fresh();
    const db = await open(dir, optionsFor("always"));
    try {
      await db.put(Buffer.from("a"), Buffer.from("queued"));
      expect(db.putBuffered(Buffer.from("a"), Buffer.from("x"))).toBe(false);
      expect(db.putBuffered(Buffer.from("b"), Buffer.from("x"), Buffer.from("p"))).toBe(false);
      expect(db.deleteBuffered(Buffer.from("a"))).toBe(false);
      expect(db.writeBuffered(new WriteBatch().put(Buffer.from("c"), Buffer.from("x")))).toBe(
        false,
      );
      db.commitBuffered();
      expect(text(await db.get(Buffer.from("a")))).toBe("queued");
      expect(await db.get(Buffer.from("b"))).toBeUndefined();
      expect(db.lookup(Buffer.from("c"))).toBeUndefined();
      expect(db.stats().logBytesWritten).toBeGreaterThan(0);
      const logged = db.stats().logBytesWritten;
      expect(db.putBuffered(Buffer.from("d"), Buffer.from("x"))).toBe(false);
      expect(db.stats().logBytesWritten).toBe(logged);
    } finally {
      await db.close();
    }
    expect(await contentsAfterReopen(dir, "always")).toEqual([[hex("a"), hex("queued")]]);
  });

  it("refuses buffered writes once close() has started, and writes what was buffered before", async () => {
    const dir = fresh();
    const db = await open(dir, optionsFor("everysec"));
    expect(db.putBuffered(Buffer.from("before"), Buffer.from("1"))).toBe(true);
    const closing = db.close();
    expect(db.putBuffered(Buffer.from("after"), Buffer.from("2"))).toBe(false);
    expect(db.deleteBuffered(Buffer.from("before"))).toBe(false);
    expect(db.writeBuffered(new WriteBatch().put(Buffer.from("after"), Buffer.from("2")))).toBe(
      false,
    );
    await closing;
    expect(db.putBuffered(Buffer.from("after"), Buffer.from("3"))).toBe(false);
    expect(await contentsAfterReopen(dir, "everysec")).toEqual([[hex("before"), hex("1")]]);
  });

  it("throws on invalid keys and values whatever the policy", async () => {
    const db = await open(fresh(), optionsFor("always"));
    try {
      const tooLong = Buffer.alloc(MAX_KEY_SIZE_BYTES + 1);
      expect(() => db.putBuffered(tooLong, Buffer.from("x"))).toThrow(/MAX_KEY_SIZE_BYTES/);
      expect(() => db.deleteBuffered(tooLong)).toThrow(/MAX_KEY_SIZE_BYTES/);
      expect(() => db.putBuffered("k" as unknown as Uint8Array, Buffer.from("x"))).toThrow();
      expect(() => db.writeBuffered({} as WriteBatch)).toThrow();
    } finally {
      await db.close();
    }
  });
});

// ---------------------------------------------------------------------------
// Crash: SIGKILL a writer that acknowledges buffered writes after commitBuffered()
// ---------------------------------------------------------------------------

const WRITER = fileURLToPath(new URL("./helpers/crash-buffered-writer.ts", import.meta.url));

/**
 * The writer is killed once it has acknowledged this many keys (an event, not
 * a delay: on a loaded machine the kill still lands while writes flow, past
 * several memtable switches and flushes of 64 kB memtables).
 */
const killAfterAcks = (): number => 200 + Math.floor(Math.random() * 1500);
/** Generous: a loaded 2-core machine may take seconds to start a tsx child. */
const WRITER_DEADLINE_MS = 60_000;

interface WriterRun {
  acked: Set<string>;
  bufferedAcks: number;
  queuedAcks: number;
}

/** Runs the writer until it has acknowledged `killAfter` keys, then kills it with SIGKILL. */
async function runAndKill(dir: string, policy: SyncPolicy, round: number): Promise<WriterRun> {
  const killAfter = killAfterAcks();
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir, policy, String(round)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = exitOf(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const run: WriterRun = { acked: new Set(), bufferedAcks: 0, queuedAcks: 0 };
  const lines = createInterface({ input: child.stdout });
  const ended = new Promise<void>((resolve) => lines.once("close", resolve));
  const deadline = setTimeout(() => child.kill("SIGKILL"), WRITER_DEADLINE_MS);
  let killed = false;
  lines.on("line", (line) => {
    const [kind, key] = line.split(" ");
    if (kind === "buffered" || kind === "queued") {
      run.acked.add(key!);
      if (kind === "buffered") run.bufferedAcks++;
      else run.queuedAcks++;
      if (!killed && run.acked.size >= killAfter) {
        killed = true;
        child.kill("SIGKILL");
      }
    }
  });
  await exited;
  // Lines written to the pipe before the kill still arrive: drain them.
  await ended;
  clearTimeout(deadline);
  await stopChild(child, exited);
  expect(killed, `writer stopped before ${killAfter} acks: ${stderr}`).toBe(true);
  return run;
}

async function verifyAfterCrash(dir: string, runs: WriterRun[]): Promise<void> {
  const db = await open(dir, optionsFor("everysec"));
  try {
    for (const run of runs) {
      for (const key of run.acked) {
        const value = await db.get(Buffer.from(key));
        expect(value, `acknowledged ${key} lost`).toBeDefined();
        expect(Buffer.from(value!).equals(valueFor(key)), `value of ${key}`).toBe(true);
      }
    }
    const keys = new Set<string>();
    for await (const [key, value] of db.iterator()) {
      const name = Buffer.from(key).toString("utf8");
      expect(name).toMatch(/^r\d+-\d{6}(-b)?$/);
      expect(Buffer.from(value).equals(valueFor(name)), `value of ${name}`).toBe(true);
      keys.add(name);
    }
    for (const key of keys) {
      if (Number(key.split("-")[1]) % 5 !== 4) continue;
      // Batch atomicity (writeBuffered is one log record): both halves or neither.
      const partner = key.endsWith("-b") ? key.slice(0, -2) : `${key}-b`;
      expect(keys.has(partner), `batch half of ${key}`).toBe(true);
    }
  } finally {
    await db.close();
  }
}

describe("buffered writes and a SIGKILL", () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  for (const policy of ["everysec", "always"] as const) {
    it(`keeps every write acknowledged after commitBuffered (${policy})`, async () => {
      const { dir, cleanup } = tempDir("lsm-buffered-crash");
      cleanups.push(cleanup);
      const runs: WriterRun[] = [];
      for (let round = 0; round < 2; round++) {
        runs.push(await runAndKill(dir, policy, round));
        await verifyAfterCrash(dir, runs);
      }
      const buffered = runs.reduce((sum, run) => sum + run.bufferedAcks, 0);
      if (policy === "always") {
        // The contract: never buffered under "always" (the ack waits for the fsync of put/write).
        expect(buffered).toBe(0);
      } else {
        expect(buffered).toBeGreaterThan(0);
      }
    });
  }
});
