/**
 * Model-based test: random sequences of put, delete, batch, get, scan
 * (forward/reverse, bounds, limit), snapshot reads, flush, compact and reopen
 * run against the engine and against an in-memory sorted map; every read must
 * agree. A tiny memtable makes flushes and compactions happen inside short runs.
 */
import { tempDir } from "@scaleout/testkit";
import * as fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, open, type Snapshot, WriteBatch } from "../src/index.js";
import { collect, FlushCommand } from "./helpers/common.js";

type ModelMap = Map<string, string>;

interface Model {
  data: ModelMap;
  snapshot: { data: ModelMap; handle: Snapshot } | null;
}

interface Real {
  db: Database;
  dir: string;
}

// readMode "async" here; every other test runs the default "sync" block reads.
const OPTIONS = {
  memtableSizeBytes: 4096,
  blockSizeBytes: 256,
  syncPolicy: "never" as const,
  readMode: "async" as const,
};

// A small key space so overwrites, deletes and range edges collide often.
// The empty key is one of them: it sorts first and is a valid bound.
const keyArb = fc
  .integer({ min: -1, max: 15 })
  .map((n) => (n < 0 ? "" : `k${String(n).padStart(3, "0")}`));
const valueArb = fc.string({ minLength: 0, maxLength: 40 });

function hex(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

function expectedScan(
  data: ModelMap,
  options: { gte?: string; lt?: string; reverse: boolean; limit: number },
): [string, string][] {
  let entries = [...data.entries()].sort(([a], [b]) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  if (options.gte !== undefined)
    entries = entries.filter(
      ([k]) => Buffer.compare(Buffer.from(k), Buffer.from(options.gte!)) >= 0,
    );
  if (options.lt !== undefined)
    entries = entries.filter(([k]) => Buffer.compare(Buffer.from(k), Buffer.from(options.lt!)) < 0);
  if (options.reverse) entries.reverse();
  if (options.limit >= 0) entries = entries.slice(0, options.limit);
  return entries.map(([k, v]) => [hex(k), hex(v)]);
}

class PutCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: string,
    readonly value: string,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await real.db.put(Buffer.from(this.key), Buffer.from(this.value));
    model.data.set(this.key, this.value);
  }
  toString = () => `put(${this.key}, ${JSON.stringify(this.value)})`;
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    await real.db.delete(Buffer.from(this.key));
    model.data.delete(this.key);
  }
  toString = () => `delete(${this.key})`;
}

class BatchCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ops: { key: string; value: string | null }[]) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const batch = new WriteBatch();
    for (const op of this.ops) {
      if (op.value === null) batch.delete(Buffer.from(op.key));
      else batch.put(Buffer.from(op.key), Buffer.from(op.value));
    }
    await real.db.write(batch);
    for (const op of this.ops) {
      if (op.value === null) model.data.delete(op.key);
      else model.data.set(op.key, op.value);
    }
  }
  toString = () => `batch(${JSON.stringify(this.ops)})`;
}

class GetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: string,
    readonly atSnapshot: boolean,
  ) {}
  check = (model: Readonly<Model>) => !this.atSnapshot || model.snapshot !== null;
  async run(model: Model, real: Real): Promise<void> {
    const source = this.atSnapshot ? model.snapshot!.data : model.data;
    const options = this.atSnapshot ? { snapshot: model.snapshot!.handle } : undefined;
    const got = await real.db.get(Buffer.from(this.key), options);
    const expected = source.get(this.key);
    expect(got === undefined ? undefined : Buffer.from(got).toString("utf8")).toBe(expected);
  }
  toString = () => `get(${this.key}${this.atSnapshot ? ", snapshot" : ""})`;
}

class ScanCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly gte: string | undefined,
    readonly lt: string | undefined,
    readonly reverse: boolean,
    readonly limit: number,
    readonly atSnapshot: boolean,
  ) {}
  check = (model: Readonly<Model>) => !this.atSnapshot || model.snapshot !== null;
  async run(model: Model, real: Real): Promise<void> {
    const source = this.atSnapshot ? model.snapshot!.data : model.data;
    const got = await collect(
      real.db.iterator({
        ...(this.gte !== undefined ? { gte: Buffer.from(this.gte) } : {}),
        ...(this.lt !== undefined ? { lt: Buffer.from(this.lt) } : {}),
        reverse: this.reverse,
        limit: this.limit,
        ...(this.atSnapshot ? { snapshot: model.snapshot!.handle } : {}),
      }),
    );
    expect(got).toEqual(expectedScan(source, this));
  }
  toString = () =>
    `scan(gte=${this.gte}, lt=${this.lt}, reverse=${this.reverse}, limit=${this.limit}${this.atSnapshot ? ", snapshot" : ""})`;
}

class SnapshotCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    model.snapshot?.handle.release();
    model.snapshot = { data: new Map(model.data), handle: real.db.snapshot() };
  }
  toString = () => "snapshot()";
}

class CompactCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_model: Model, real: Real): Promise<void> {
    await real.db.compact();
  }
  toString = () => "compact()";
}

class ReopenCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    // Snapshots do not survive a close.
    model.snapshot?.handle.release();
    model.snapshot = null;
    await real.db.close();
    real.db = await open(real.dir, OPTIONS);
  }
  toString = () => "reopen()";
}

const commands = [
  fc.tuple(keyArb, valueArb).map(([k, v]) => new PutCommand(k, v)),
  fc.tuple(keyArb, valueArb).map(([k, v]) => new PutCommand(k, v)),
  keyArb.map((k) => new DeleteCommand(k)),
  fc
    .array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((ops) => new BatchCommand(ops)),
  fc.tuple(keyArb, fc.boolean()).map(([k, s]) => new GetCommand(k, s)),
  fc
    .tuple(
      fc.option(keyArb, { nil: undefined }),
      fc.option(keyArb, { nil: undefined }),
      fc.boolean(),
      fc.integer({ min: -1, max: 10 }),
      fc.boolean(),
    )
    .map(([gte, lt, reverse, limit, s]) => new ScanCommand(gte, lt, reverse, limit, s)),
  fc.constant(new SnapshotCommand()),
  fc.constant(new FlushCommand<Model>()),
  fc.constant(new CompactCommand()),
  fc.constant(new ReopenCommand()),
];

describe("engine against a sorted-map model", () => {
  const dirs: (() => void)[] = [];
  afterAll(() => {
    for (const cleanup of dirs) cleanup();
  });

  it("agrees with the model through put/delete/batch/scan/snapshot/flush/compact/reopen", async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 200, size: "+1" }), async (cmds) => {
        const { dir, cleanup } = tempDir("lsm");
        dirs.push(cleanup);
        const real: Real = { db: await open(dir, OPTIONS), dir };
        const model: Model = { data: new Map(), snapshot: null };
        try {
          let step = "run";
          const body = async () => {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            step = "final close";
            // Whatever happened, a final full scan after reopen must match.
            model.snapshot?.handle.release();
            await real.db.close();
            step = "final open";
            real.db = await open(dir, OPTIONS);
            step = "final scan";
            expect(await collect(real.db.iterator())).toEqual(
              expectedScan(model.data, { reverse: false, limit: -1 }),
            );
          };
          await Promise.race([
            body(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error(`HANG at ${step}`)), 5000).unref(),
            ),
          ]);
        } finally {
          await real.db.close();
          cleanup();
        }
      }),
      { numRuns: 50 },
    );
  });
});
