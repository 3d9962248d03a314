import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  changeAt,
  HASH_SPACE,
  HashRing,
  HashRingError,
  HashRingErrorCode,
  planChanges,
} from "../src/index.js";

const nodeId = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

/** A before ring and an after ring: some nodes removed, some added, weights kept. */
const ringChange = fc
  .record({
    mode: fc.constantFrom("xxhash" as const, "ketama" as const),
    vnodes: fc.constantFrom(4, 8, 40),
    ids: fc.uniqueArray(nodeId, { minLength: 2, maxLength: 9 }),
    weights: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 9, maxLength: 9 }),
    split: fc.integer({ min: 1, max: 8 }),
    removeMask: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
  })
  .map(({ mode, vnodes, ids, weights, split, removeMask }) => {
    const specs = ids.map((id, i) => ({ id, weight: weights[i]! }));
    const cut = Math.min(split, specs.length - 1);
    const initial = specs.slice(0, cut);
    const joining = specs.slice(cut);
    const before = new HashRing(initial, { mode, vnodes });
    const after = before.clone();
    for (const spec of joining) after.addNode(spec);
    initial.forEach((spec, i) => {
      if (removeMask[i] && after.size > 1) after.removeNode(spec.id);
    });
    return { before, after };
  });

describe("planChanges", () => {
  it("predicts exactly which keys move, and where", () => {
    fc.assert(
      fc.property(
        ringChange,
        fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 150 }),
        ({ before, after }, keys) => {
          const plan = planChanges(before, after);
          // Ranges are well-formed, sorted and disjoint.
          plan.forEach((change, i) => {
            expect(change.first).toBeLessThanOrEqual(change.last);
            expect(change.from).not.toBe(change.to);
            if (i > 0) expect(change.first).toBeGreaterThan(plan[i - 1]!.last);
          });
          expect(plan.at(-1)?.last ?? 0).toBeLessThan(HASH_SPACE);
          // Probe keys, plus every range edge and its neighbours (where off-by-ones hide).
          const hashes = keys.map((k) => before.hashOf(k));
          for (const change of plan.slice(0, 40)) {
            hashes.push(
              change.first,
              change.last,
              Math.max(0, change.first - 1),
              Math.min(HASH_SPACE - 1, change.last + 1),
            );
          }
          for (const point of before.points().slice(0, 30))
            hashes.push(point.hash, (point.hash + 1) % HASH_SPACE);
          for (const hash of hashes) {
            const from = before.ownerOfHash(hash);
            const to = after.ownerOfHash(hash);
            const change = changeAt(plan, hash);
            if (from === to) {
              expect(change).toBeUndefined();
            } else {
              expect(change).toEqual(expect.objectContaining({ from, to }));
            }
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("on one join in the default mode, moves only ranges onto the newcomer, about 1/(n+1) of the space", () => {
    const before = new HashRing(Array.from({ length: 9 }, (_, i) => `n${i}`));
    const after = before.clone();
    after.addNode("n9");
    const plan = planChanges(before, after);
    expect(plan.every((change) => change.to === "n9")).toBe(true);
    const share = plan.reduce((sum, c) => sum + c.last - c.first + 1, 0) / HASH_SPACE;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
  });

  it("is empty for identical rings and refuses rings that hash keys differently", () => {
    const ring = new HashRing(["a", "b"]);
    expect(planChanges(ring, ring.clone())).toEqual([]);
    const ketama = new HashRing(["a", "b"], { mode: "ketama" });
    expect(() => planChanges(ring, ketama)).toThrow(HashRingError);
    try {
      planChanges(ring, new HashRing());
    } catch (error) {
      expect((error as HashRingError).code).toBe(HashRingErrorCode.EMPTY_RING);
    }
  });
});
