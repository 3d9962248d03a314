import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HashRingErrorCode, JumpHash, jumpBucket, jumpBucketBigInt } from "../src/index.js";

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

describe("jumpBucket", () => {
  it("equals the BigInt transcription of the paper's code", () => {
    fc.assert(
      fc.property(uint32, uint32, fc.integer({ min: 1, max: 1 << 20 }), (high, low, buckets) => {
        const key = (BigInt(high) << 32n) | BigInt(low);
        expect(jumpBucket(high, low, buckets)).toBe(jumpBucketBigInt(key, buckets));
      }),
      { numRuns: 2_000 },
    );
  });

  it("moves a key only to the new bucket when a bucket is added", () => {
    fc.assert(
      fc.property(uint32, uint32, fc.integer({ min: 1, max: 5_000 }), (high, low, buckets) => {
        const before = jumpBucket(high, low, buckets);
        const after = jumpBucket(high, low, buckets + 1);
        expect(before).toBeGreaterThanOrEqual(0);
        expect(before).toBeLessThan(buckets);
        if (after !== before) expect(after).toBe(buckets);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("JumpHash", () => {
  it("spreads keys evenly and moves about 1/(n+1) on a join", () => {
    const ids = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    const jump = new JumpHash(ids);
    const counts = new Map<string, number>();
    const before: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const owner = jump.owner(`key:${i}`);
      before.push(owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const count of counts.values()) expect(Math.abs(count - 2_000)).toBeLessThan(250);
    jump.addNode("node-10");
    let moved = 0;
    for (let i = 0; i < 20_000; i++) {
      const now = jump.owner(`key:${i}`);
      if (now !== before[i]) {
        moved++;
        expect(now).toBe("node-10");
      }
    }
    expect(Math.abs(moved / 20_000 - 1 / 11)).toBeLessThan(0.01);
  });

  it("removes only the last bucket and has no weights", () => {
    const jump = new JumpHash(["a", "b", "c"]);
    expect(() => jump.removeNode("a")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.JUMP_REMOVE_NOT_LAST }),
    );
    expect(() => jump.removeNode("zz")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.UNKNOWN_NODE }),
    );
    expect(() => jump.addNode({ id: "d", weight: 2 })).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_WEIGHT }),
    );
    expect(() => jump.addNode("a")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.DUPLICATE_NODE }),
    );
    jump.removeNode("c");
    expect(jump.nodeIds()).toEqual(["a", "b"]);
    expect(() => new JumpHash().owner("k")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.EMPTY_RING }),
    );
    expect(() => jump.owner("")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_KEY }),
    );
  });
});
