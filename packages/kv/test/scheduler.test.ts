/**
 * The command scheduler: commands on a common key run in arrival order and
 * never overlap; commands on different keys may overlap; whole-keyspace
 * commands wait for everything before them and hold back everything after.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CommandScheduler } from "../src/commands/scheduler.js";

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("CommandScheduler", () => {
  it("serializes read-modify-write per key even with async storage (a model of INCR)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.nat({ max: 3 }), fc.nat({ max: 3 })), {
          minLength: 1,
          maxLength: 40,
        }),
        async (operations) => {
          const scheduler = new CommandScheduler();
          const store = new Map<string, number>();
          const expected = new Map<string, number>();
          const results = await Promise.all(
            operations.map(([key, readDelay, writeDelay]) =>
              scheduler.run({ kind: "keys", keys: [key] }, async () => {
                const current = store.get(key) ?? 0;
                await tick(readDelay);
                store.set(key, current + 1);
                await tick(writeDelay);
                return current + 1;
              }),
            ),
          );
          // Each INCR saw its predecessors on the same key, in arrival order.
          operations.forEach(([key], index) => {
            const next = (expected.get(key) ?? 0) + 1;
            expected.set(key, next);
            expect(results[index]).toBe(next);
          });
          expect(store).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("lets different keys run concurrently and a barrier wait for all", async () => {
    const scheduler = new CommandScheduler();
    const log: string[] = [];
    const slow = scheduler.run({ kind: "keys", keys: ["a"] }, async () => {
      await tick(30);
      log.push("a done");
    });
    const fast = scheduler.run({ kind: "keys", keys: ["b"] }, async () => {
      log.push("b done");
    });
    const barrier = scheduler.run({ kind: "all" }, () => {
      log.push("flushall");
    });
    const after = scheduler.run({ kind: "keys", keys: ["b"] }, () => {
      log.push("b after");
    });
    await Promise.all([slow, fast, barrier, after]);
    expect(log).toEqual(["b done", "a done", "flushall", "b after"]);
    await scheduler.drained();
    expect(scheduler.pending).toBe(0);
  });

  it("adopt: a command started at once while idle holds its keys until it settles", async () => {
    const scheduler = new CommandScheduler();
    expect(scheduler.idle).toBe(true);
    const log: string[] = [];
    let finish!: () => void;
    // Started unlocked (idle), then found it must wait on the engine: adopt its keys.
    const started = new Promise<void>((resolve) => {
      finish = resolve;
    }).then(() => log.push("a slow done"));
    const adopted = scheduler.adopt({ kind: "keys", keys: ["a"] }, started);
    expect(scheduler.idle).toBe(false);
    const sameKey = scheduler.run({ kind: "keys", keys: ["a"] }, () => log.push("a next"));
    const otherKey = scheduler.run({ kind: "keys", keys: ["b"] }, () => log.push("b"));
    expect(log).toEqual(["b"]);
    finish();
    await Promise.all([adopted, sameKey, otherKey]);
    expect(log).toEqual(["b", "a slow done", "a next"]);
    expect(scheduler.idle).toBe(true);
    await scheduler.drained();
    expect(scheduler.pending).toBe(0);
  });

  it("does not deadlock on a key listed twice, and releases keys after a failure", async () => {
    const scheduler = new CommandScheduler();
    expect(await scheduler.run({ kind: "keys", keys: ["k", "k"] }, () => 1)).toBe(1);
    await expect(
      scheduler.run({ kind: "keys", keys: ["k"] }, () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await scheduler.run({ kind: "keys", keys: ["k"] }, () => 2)).toBe(2);
  });
});
