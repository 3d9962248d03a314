import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TempDir, tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import {
  ClockBackwardsError,
  ClockBehindReservationError,
  decode,
  ManualClock,
  PRESETS,
  readStateFile,
  SnowflakeError,
  SnowflakeErrorCode,
  SnowflakeGenerator,
} from "../src/index.js";

const twitter = PRESETS.twitter;
const START_MS = Date.UTC(2026, 0, 1, 12);

function expectStrictlyIncreasing(ids: ArrayLike<bigint>): void {
  for (let i = 1; i < ids.length; i++) {
    if (ids[i]! <= ids[i - 1]!)
      throw new Error(`id ${i} (${ids[i]}) is not above id ${i - 1} (${ids[i - 1]})`);
  }
}

const directories: TempDir[] = [];
function tempFile(name: string): string {
  const directory = tempDir("snowflake-state");
  directories.push(directory);
  return join(directory.dir, name);
}
afterEach(() => {
  for (const directory of directories.splice(0)) directory.cleanup();
});

describe("one generator on the real clock", () => {
  it("issues 3 million strictly increasing (hence unique) ids through batches", () => {
    const generator = new SnowflakeGenerator({ layout: twitter, datacenter: 3, machine: 17 });
    let previous = -1n;
    for (let round = 0; round < 300; round++) {
      const batch = generator.nextBatch(10_000);
      if (batch[0]! <= previous)
        throw new Error(`batch ${round} starts at or below the previous one`);
      expectStrictlyIncreasing(batch);
      previous = batch[batch.length - 1]!;
    }
    expect(generator.issuedTotal).toBe(3_000_000);
    const last = decode(previous, twitter);
    expect(last).toMatchObject({ datacenter: 3, machine: 17 });
  });

  it("single ids, strings and batches interleave in one strictly increasing sequence", () => {
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 1 });
    const all: bigint[] = [];
    for (let round = 0; round < 200; round++) {
      all.push(generator.next());
      for (const text of generator.nextStrings(997)) all.push(BigInt(text));
      all.push(...generator.nextBatch(1_500));
      all.push(BigInt(generator.nextString()));
    }
    expect(all.length).toBe(200 * 2_499);
    expectStrictlyIncreasing(all);
  });
});

describe("with an injected clock", () => {
  it("waits for the next millisecond when the sequence runs out, never wrapping", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 2, clock });
    const ids = generator.nextBatch(4096 * 3 + 5);
    expectStrictlyIncreasing(ids);
    expect(generator.overflowWaits).toBe(3);
    expect(clock.waits).toEqual([
      [START_MS, START_MS + 1],
      [START_MS + 1, START_MS + 2],
      [START_MS + 2, START_MS + 3],
    ]);
    expect(decode(ids[4095]!, twitter)).toMatchObject({ timestamp: START_MS, sequence: 4095 });
    expect(decode(ids[4096]!, twitter)).toMatchObject({ timestamp: START_MS + 1, sequence: 0 });
    expect(decode(ids[ids.length - 1]!, twitter)).toMatchObject({
      timestamp: START_MS + 3,
      sequence: 4,
    });
  });

  it("single next() calls wait on overflow too", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 2, clock });
    const ids = Array.from({ length: 4097 }, () => generator.next());
    expectStrictlyIncreasing(ids);
    expect(clock.waits).toEqual([[START_MS, START_MS + 1]]);
  });

  it("a small step back is waited out, and the rest of the last millisecond is used", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({
      layout: twitter,
      machine: 2,
      clock,
      maxBackwardsMs: 5,
    });
    const before = generator.nextBatch(10);
    clock.set(START_MS - 3);
    const after = generator.next();
    expect(after).toBeGreaterThan(before[9]!);
    expect(clock.waits).toEqual([[START_MS - 3, START_MS]]);
    expect(generator.backwardsEvents).toBe(1);
    expect(decode(after, twitter)).toMatchObject({ timestamp: START_MS, sequence: 10 });
  });

  it("a large step back refuses with a typed error carrying the offset, then recovers", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({
      layout: twitter,
      machine: 2,
      clock,
      maxBackwardsMs: 5,
    });
    const last = generator.next();
    clock.set(START_MS - 50);
    let caught: unknown;
    try {
      generator.nextBatch(3);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ClockBackwardsError);
    expect((caught as ClockBackwardsError).offsetMs).toBe(50);
    expect((caught as ClockBackwardsError).code).toBe(SnowflakeErrorCode.CLOCK_BACKWARDS);
    expect(generator.issuedTotal).toBe(1);
    clock.set(START_MS + 1);
    expect(generator.next()).toBeGreaterThan(last);
  });

  it("a sequence reset never happens before the clock check (the rollback pitfall)", () => {
    // Issue many ids in one ms, step back a little, step forward to the same ms: no reuse.
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({
      layout: twitter,
      machine: 2,
      clock,
      maxBackwardsMs: 10,
    });
    const seen = new Set<bigint>(generator.nextBatch(100));
    clock.set(START_MS - 1);
    for (const id of generator.nextBatch(100)) {
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
    expect(seen.size).toBe(200);
  });

  it("sonyflake's 10 ms unit: 256 ids per unit, waits to the next 10 ms boundary", () => {
    const clock = new ManualClock(START_MS + 3);
    const generator = new SnowflakeGenerator({ layout: PRESETS.sonyflake, machine: 40_000, clock });
    const ids = generator.nextBatch(257);
    expectStrictlyIncreasing(ids);
    const unitStart = START_MS - ((START_MS - PRESETS.sonyflake.epochMs) % 10);
    expect(clock.waits).toEqual([[START_MS + 3, unitStart + 10]]);
    expect(decode(ids[256]!, PRESETS.sonyflake)).toMatchObject({ machine: 40_000, sequence: 0 });
  });

  it("refuses worker ids that do not fit their fields and counts below 1", () => {
    expect(() => new SnowflakeGenerator({ layout: twitter, machine: 32 })).toThrow(/0\.\.31/);
    expect(() => new SnowflakeGenerator({ layout: twitter, datacenter: -1, machine: 0 })).toThrow(
      SnowflakeError,
    );
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 0 });
    expect(() => generator.nextBatch(0)).toThrow(/positive integer/);
  });

  it("refuses a clock before the epoch", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 0, clock });
    clock.set(twitter.epochMs - 1);
    expect(() => generator.next()).toThrow(/before the layout's epoch/);
  });

  it("rebinding to another machine id keeps ids increasing", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 9, clock });
    const before = generator.next();
    generator.rebind(0, 1, null);
    const after = generator.next();
    expect(after).toBeGreaterThan(before);
    expect(decode(after, twitter)).toMatchObject({ machine: 1, timestamp: START_MS + 1 });
  });
});

describe("restart safety with the state file", () => {
  it("a restart after the clock stepped back waits past the reservation and repeats nothing", () => {
    const path = tempFile("ids.state");
    const clock = new ManualClock(START_MS);
    const first = new SnowflakeGenerator({
      layout: twitter,
      machine: 4,
      clock,
      stateFile: path,
      reserveAheadMs: 1_000,
    });
    const issued = new Set<bigint>();
    for (let ms = 0; ms < 20; ms++) {
      for (const id of first.nextBatch(500)) issued.add(id);
      clock.advance(1);
    }
    // Crash: no close(). The file says "up to START_MS + 1000 may be used".
    expect(readStateFile(path)?.reservedUntilMs).toBe(START_MS + 1_000);
    clock.set(START_MS - 200); // the wall clock stepped back before the restart
    const second = new SnowflakeGenerator({ layout: twitter, machine: 4, clock, stateFile: path });
    expect(second.startupWaitMs()).toBe(1_201);
    const ids = second.nextBatch(5_000);
    for (const id of ids) expect(issued.has(id)).toBe(false);
    let highestIssued = -1n;
    for (const id of issued) if (id > highestIssued) highestIssued = id;
    expect(ids[0]!).toBeGreaterThan(highestIssued);
    expect(decode(ids[0]!, twitter).timestamp).toBe(START_MS + 1_001);
  });

  it("without the state file the same restart would repeat ids (why the file exists)", () => {
    const clock = new ManualClock(START_MS);
    const first = new SnowflakeGenerator({ layout: twitter, machine: 4, clock });
    const issued = new Set<bigint>(first.nextBatch(100));
    clock.set(START_MS);
    const second = new SnowflakeGenerator({ layout: twitter, machine: 4, clock });
    const repeated = [...second.nextBatch(100)].filter((id) => issued.has(id));
    expect(repeated.length).toBe(100);
  });

  it("refuses when the clock is further behind the reservation than the bounded wait", () => {
    const path = tempFile("ids.state");
    const clock = new ManualClock(START_MS);
    new SnowflakeGenerator({ layout: twitter, machine: 4, clock, stateFile: path }).next();
    clock.set(START_MS - 60_000);
    const second = new SnowflakeGenerator({
      layout: twitter,
      machine: 4,
      clock,
      stateFile: path,
      maxStartupWaitMs: 10_000,
    });
    let caught: unknown;
    try {
      second.next();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ClockBehindReservationError);
    expect((caught as ClockBehindReservationError).offsetMs).toBeGreaterThan(60_000);
    expect(second.issuedTotal).toBe(0);
  });

  it("a clean close records the last timestamp used, so the next run starts at once", () => {
    const path = tempFile("ids.state");
    const clock = new ManualClock(START_MS);
    const first = new SnowflakeGenerator({ layout: twitter, machine: 4, clock, stateFile: path });
    const last = first.nextBatch(5000)[4999]!;
    first.close();
    const record = readStateFile(path);
    expect(record).toMatchObject({ reservedUntilMs: START_MS + 1, clean: true, machine: 4 });
    clock.advance(1);
    const second = new SnowflakeGenerator({ layout: twitter, machine: 4, clock, stateFile: path });
    expect(second.startupWaitMs()).toBe(0);
    expect(second.next()).toBeGreaterThan(last);
    expect(() => first.next()).toThrow(/closed/);
  });

  it("reserves ahead: the file is rewritten only when time passes the reservation", () => {
    const path = tempFile("ids.state");
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({
      layout: twitter,
      machine: 4,
      clock,
      stateFile: path,
      reserveAheadMs: 100,
    });
    generator.next();
    expect(readStateFile(path)?.reservedUntilMs).toBe(START_MS + 100);
    clock.advance(100);
    generator.next();
    expect(readStateFile(path)?.reservedUntilMs).toBe(START_MS + 100);
    clock.advance(1);
    generator.next();
    expect(readStateFile(path)?.reservedUntilMs).toBe(START_MS + 201);
  });

  it("refuses a corrupt state file and one written for another epoch", () => {
    const path = tempFile("ids.state");
    writeFileSync(path, "{not json");
    expect(() => new SnowflakeGenerator({ layout: twitter, machine: 1, stateFile: path })).toThrow(
      expect.objectContaining({ code: SnowflakeErrorCode.STATE_FILE_CORRUPT }),
    );
    const clock = new ManualClock(START_MS);
    new SnowflakeGenerator({
      layout: twitter,
      machine: 1,
      clock,
      stateFile: path.replace("ids", "ok"),
    }).next();
    const other = path.replace("ids", "ok");
    expect(
      () =>
        new SnowflakeGenerator({ layout: PRESETS.discord, machine: 1, clock, stateFile: other }),
    ).toThrow(expect.objectContaining({ code: SnowflakeErrorCode.STATE_FILE_MISMATCH }));
  });
});

describe("fill", () => {
  it("fills a subarray in place, leaving the rest of the buffer alone", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 3, clock });
    const buffer = new BigUint64Array(10_000);
    generator.fill(buffer.subarray(100, 9_100));
    expect(buffer[99]).toBe(0n);
    expect(buffer[9_100]).toBe(0n);
    expectStrictlyIncreasing(buffer.subarray(100, 9_100));
    expect(decode(buffer[100]!, twitter)).toMatchObject({
      machine: 3,
      sequence: 0,
      timestamp: START_MS,
    });
    const twin = new SnowflakeGenerator({
      layout: twitter,
      machine: 3,
      clock: new ManualClock(START_MS),
    });
    expect([...twin.nextBatch(9_000)]).toEqual([...buffer.subarray(100, 9_100)]);
  });
});

describe("lag allowance", () => {
  it("fills time units skipped while descheduled, never further back than allowed", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 3, clock, maxLagMs: 3 });
    generator.nextBatch(4096); // all of START_MS
    clock.advance(10); // the process was not running for 10 ms
    const ids = generator.nextBatch(4096 * 5);
    expectStrictlyIncreasing(ids);
    // START_MS+1..+6 lie more than 3 ms back: the first usable unit is START_MS+7.
    expect(decode(ids[0]!, twitter).timestamp).toBe(START_MS + 7);
    expect(decode(ids[4096 * 3]!, twitter).timestamp).toBe(START_MS + 10);
    expect(decode(ids[4096 * 4]!, twitter).timestamp).toBe(START_MS + 11);
    expect(clock.waits).toEqual([[START_MS + 10, START_MS + 11]]);
  });

  it("without it (the default) skipped units stay unused", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 3, clock });
    generator.nextBatch(100);
    clock.advance(10);
    expect(decode(generator.next(), twitter).timestamp).toBe(START_MS + 10);
  });

  it("keeps using the last unit's numbers while it is within the allowance", () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 3, clock, maxLagMs: 2 });
    generator.nextBatch(100);
    clock.advance(2);
    expect(decode(generator.next(), twitter)).toMatchObject({ timestamp: START_MS, sequence: 100 });
    expect(() => new SnowflakeGenerator({ layout: twitter, machine: 3, maxLagMs: 5_000 })).toThrow(
      /maxLagMs/,
    );
  });
});

describe("nextStringsAsync", () => {
  it("concurrent calls on the real clock: each result increasing, none overlapping", async () => {
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 6 });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => generator.nextStringsAsync(10_000)),
    );
    const seen = new Set<string>();
    for (const ids of results) {
      expect(ids.length).toBe(10_000);
      expectStrictlyIncreasing(ids.map(BigInt));
      for (const id of ids) seen.add(id);
    }
    expect(seen.size).toBe(60_000);
  });

  it("with an injected clock it waits like the synchronous call and yields the same ids", async () => {
    const clock = new ManualClock(START_MS);
    const generator = new SnowflakeGenerator({ layout: twitter, machine: 6, clock });
    const ids = await generator.nextStringsAsync(4096 * 2 + 1);
    expect(clock.waits).toEqual([
      [START_MS, START_MS + 1],
      [START_MS + 1, START_MS + 2],
    ]);
    const twin = new SnowflakeGenerator({
      layout: twitter,
      machine: 6,
      clock: new ManualClock(START_MS),
    });
    expect(ids).toEqual(twin.nextStrings(4096 * 2 + 1));
  });
});
