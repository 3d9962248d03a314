import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MERKLE_FANOUT } from "../../src/cluster/constants.js";
import { differingInner, keyHash, MerkleTree } from "../../src/cluster/merkle.js";
import { locateKey } from "../../src/cluster/placement.js";

/** A replica's key → digest map, applied to a tree write by write. */
function applyAll(
  tree: MerkleTree,
  state: Map<string, string>,
  writes: [string, string | null][],
): void {
  for (const [key, digest] of writes) {
    const { bucket } = locateKey(key);
    const before = state.get(key);
    tree.update(
      bucket,
      before === undefined ? null : keyHash(key, before),
      digest === null ? null : keyHash(key, digest),
    );
    if (digest === null) state.delete(key);
    else state.set(key, digest);
  }
}

function buildFresh(state: Map<string, string>): MerkleTree {
  const tree = new MerkleTree();
  for (const [key, digest] of state) tree.update(locateKey(key).bucket, null, keyHash(key, digest));
  return tree;
}

const writeArb = fc.tuple(
  fc.string({ maxLength: 6 }),
  fc.option(fc.constantFrom("d1", "d2", "d3"), { nil: null }),
);

describe("incremental Merkle tree", () => {
  it("equals a tree built from scratch over the final contents, whatever the write order", () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 80 }), (writes) => {
        const tree = new MerkleTree();
        const state = new Map<string, string>();
        applyAll(tree, state, writes);
        const fresh = buildFresh(state);
        expect(tree.root()).toBe(fresh.root());
        expect(tree.innerHashes()).toEqual(fresh.innerHashes());
        expect(tree.size).toBe(state.size);
      }),
      { numRuns: 200 },
    );
  });

  it("locates exactly the buckets holding differing keys", () => {
    fc.assert(
      fc.property(
        fc.array(writeArb, { maxLength: 40 }),
        fc.array(writeArb, { maxLength: 10 }),
        (common, extra) => {
          const a = new MerkleTree();
          const b = new MerkleTree();
          const stateA = new Map<string, string>();
          const stateB = new Map<string, string>();
          applyAll(a, stateA, common);
          applyAll(b, stateB, common);
          applyAll(b, stateB, extra);
          const expected = new Set<number>();
          for (const key of new Set([...stateA.keys(), ...stateB.keys()])) {
            if (stateA.get(key) !== stateB.get(key)) expected.add(locateKey(key).bucket);
          }
          const found = new Set<number>();
          for (const inner of differingInner(a.innerHashes(), b.innerHashes())) {
            const ours = a.leafHashesUnder(inner);
            const theirs = b.leafHashesUnder(inner);
            ours.forEach((h, i) => {
              if (h !== theirs[i]) found.add(inner * MERKLE_FANOUT + i);
            });
          }
          expect(found).toEqual(expected);
          expect(a.root() === b.root()).toBe(expected.size === 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
