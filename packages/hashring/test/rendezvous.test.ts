import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HashRingErrorCode, RendezvousHash } from "../src/index.js";

const nodeId = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

describe("RendezvousHash", () => {
  it("moves only the keys of a removed node, and only onto an added node", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(nodeId, { minLength: 3, maxLength: 10 }),
        fc.array(fc.string({ minLength: 1, maxLength: 16 }), { minLength: 1, maxLength: 100 }),
        (ids, keys) => {
          const [newcomer, ...rest] = ids as [string, ...string[]];
          const hrw = new RendezvousHash(rest);
          const before = keys.map((k) => hrw.owner(k));
          hrw.addNode(newcomer);
          keys.forEach((k, i) => {
            const now = hrw.owner(k);
            if (now !== before[i]) expect(now).toBe(newcomer);
          });
          hrw.removeNode(newcomer);
          const leaving = rest[0]!;
          hrw.removeNode(leaving);
          keys.forEach((k, i) => {
            if (before[i] !== leaving) expect(hrw.owner(k)).toBe(before[i]);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("gives weighted nodes a proportional share", () => {
    const hrw = new RendezvousHash([
      { id: "small", weight: 1 },
      { id: "large", weight: 3 },
    ]);
    let large = 0;
    for (let i = 0; i < 20_000; i++) if (hrw.owner(`key:${i}`) === "large") large++;
    expect(Math.abs(large / 20_000 - 0.75)).toBeLessThan(0.02);
  });

  it("preference lists are distinct, start with the owner, and cap at the node count", () => {
    const hrw = new RendezvousHash(["a", "b", "c", "d"]);
    for (let i = 0; i < 100; i++) {
      const list = hrw.preferenceList(`k${i}`, 3);
      expect(new Set(list).size).toBe(3);
      expect(list[0]).toBe(hrw.owner(`k${i}`));
    }
    expect(hrw.preferenceList("k", 9)).toHaveLength(4);
    expect(() => hrw.preferenceList("k", 0)).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_COUNT }),
    );
    expect(() => new RendezvousHash().owner("k")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.EMPTY_RING }),
    );
    expect(() => hrw.addNode("a")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.DUPLICATE_NODE }),
    );
  });
});
