import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HASH_SPACE, HashRing, HashRingError, HashRingErrorCode, xxhash32 } from "../src/index.js";
import {
  referenceClockwise,
  referenceOwner,
  referencePoints,
  referencePreferenceList,
} from "./reference.js";

const nodeId = fc.stringMatching(/^[a-z][a-z0-9.:-]{0,11}$/);
const nodeIds = fc.uniqueArray(nodeId, { minLength: 1, maxLength: 8 });
const key = fc.string({ minLength: 1, maxLength: 24, unit: "grapheme" });
const hash = fc.integer({ min: 0, max: HASH_SPACE - 1 });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HashRingError) return error.code;
    throw error;
  }
  return undefined;
}

describe("xxhash32", () => {
  it("matches the published xxHash32 test values", () => {
    expect(xxhash32("")).toBe(0x02cc5d05);
    expect(xxhash32("hello")).toBe(0xfb0077f9);
  });
});

describe("HashRing golden lookups", () => {
  // Pinned: if any of these change, every deployed ring would move keys.
  it("places keys identically on every machine (default xxhash layout)", () => {
    const ring = new HashRing(["cache-a:11211", "cache-b:11211", "cache-c:11211", "cache-d:11211"]);
    const golden: [string, number, string][] = [
      ["user:1", 2100717921, "cache-d:11211"],
      ["user:2", 2600533290, "cache-b:11211"],
      ["session:42", 1243448420, "cache-c:11211"],
      ["photo:9001", 3881532690, "cache-c:11211"],
      ["ünïcødé", 1145591479, "cache-b:11211"],
      ["a", 1426945110, "cache-d:11211"],
    ];
    for (const [k, h, owner] of golden) {
      expect(ring.hashOf(k)).toBe(h);
      expect(ring.owner(k)).toBe(owner);
    }
    expect(ring.pointCount).toBe(4 * 160);
  });

  it("pins a weighted ring", () => {
    const ring = new HashRing(
      [
        { id: "big", weight: 3 },
        { id: "small", weight: 1 },
      ],
      { vnodes: 100 },
    );
    expect(ring.pointCount).toBe(400);
    expect(ring.points().slice(0, 3)).toEqual([
      { hash: 3805097, node: "small" },
      { hash: 12068938, node: "small" },
      { hash: 13714838, node: "big" },
    ]);
    expect(ring.owner("user:1")).toBe("small");
    expect(ring.owner("user:2")).toBe("big");
  });
});

describe("HashRing lookups", () => {
  it("equal a brute-force scan over all points", () => {
    fc.assert(
      fc.property(
        nodeIds,
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.oneof(
            key.map((k) => ({ k })),
            hash.map((h) => ({ h })),
          ),
          { maxLength: 40 },
        ),
        (ids, vnodes, probes) => {
          const ring = new HashRing(ids, { vnodes });
          const points = referencePoints(
            ids.map((id) => ({ id })),
            vnodes,
          );
          // Also probe every point and its neighbours: the boundaries are where off-by-ones hide.
          const hashes = probes.map((p) => ("k" in p ? ring.hashOf(p.k) : p.h));
          for (const p of points.slice(0, 20)) {
            hashes.push(p.point, Math.max(0, p.point - 1), Math.min(HASH_SPACE - 1, p.point + 1));
          }
          for (const h of hashes) expect(ring.ownerOfHash(h)).toBe(referenceOwner(points, h));
          for (const p of probes) {
            if ("k" in p) expect(ring.owner(p.k)).toBe(referenceOwner(points, ring.hashOf(p.k)));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("do not depend on the order nodes were added in", () => {
    fc.assert(
      fc.property(
        nodeIds.chain((ids) =>
          fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length })),
        ),
        fc.array(key, { minLength: 1, maxLength: 30 }),
        ([ids, shuffled], keys) => {
          const a = new HashRing(ids, { vnodes: 20 });
          const b = new HashRing(shuffled, { vnodes: 20 });
          expect(b.points()).toEqual(a.points());
          for (const k of keys) expect(b.owner(k)).toBe(a.owner(k));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("move keys only onto an added node, and only a removed node's keys", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(nodeId, { minLength: 2, maxLength: 8 }),
        fc.array(key, { minLength: 50, maxLength: 200 }),
        (ids, keys) => {
          const [newcomer, ...rest] = ids as [string, ...string[]];
          const ring = new HashRing(rest, { vnodes: 30 });
          const before = keys.map((k) => ring.owner(k));
          ring.addNode(newcomer);
          keys.forEach((k, i) => {
            const now = ring.owner(k);
            if (now !== before[i]) expect(now).toBe(newcomer);
          });
          const withNewcomer = keys.map((k) => ring.owner(k));
          const leaving = rest[0]!;
          ring.removeNode(leaving);
          keys.forEach((k, i) => {
            if (ring.owner(k) !== withNewcomer[i]) expect(withNewcomer[i]).toBe(leaving);
            expect(ring.owner(k)).not.toBe(leaving);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("give weighted nodes points in proportion to weight", () => {
    const ring = new HashRing(
      [
        { id: "a", weight: 1 },
        { id: "b", weight: 2.5 },
        { id: "c", weight: 0.001 },
      ],
      { vnodes: 200 },
    );
    expect(ring.nodes().map((n) => [n.id, n.points])).toEqual([
      ["a", 200],
      ["b", 500],
      ["c", 1],
    ]);
    // Over many keys b's share is close to 2.5/3.5 of the keys (binomial noise is far smaller than 5%).
    let b = 0;
    for (let i = 0; i < 20_000; i++) if (ring.owner(`k${i}`) === "b") b++;
    expect(Math.abs(b / 20_000 - 2.5 / 3.5)).toBeLessThan(0.05);
  });
});

describe("preferenceList", () => {
  const zoneSpec = fc.uniqueArray(
    fc.record({
      id: nodeId,
      zone: fc.option(fc.constantFrom("dc1", "dc2", "dc3"), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 8, selector: (n) => n.id },
  );

  it("equals the by-definition reference: distinct, zone-diverse first, clockwise", () => {
    fc.assert(
      fc.property(
        zoneSpec,
        fc.integer({ min: 1, max: 10 }),
        fc.array(key, { minLength: 1, maxLength: 10 }),
        (specs, n, keys) => {
          const ring = new HashRing(specs, { vnodes: 10 });
          const points = referencePoints(specs, 10);
          const zoneOf = (id: string) => {
            const zone = specs.find((s) => s.id === id)!.zone;
            return zone === undefined ? `node:${id}` : `zone:${zone}`;
          };
          const zoneCount = new Set(specs.map((s) => zoneOf(s.id))).size;
          for (const k of keys) {
            const list = ring.preferenceList(k, n);
            const clockwise = referenceClockwise(points, ring.hashOf(k));
            expect(list).toEqual(referencePreferenceList(clockwise, zoneOf, n));
            expect(list.length).toBe(Math.min(n, specs.length));
            expect(new Set(list).size).toBe(list.length);
            const head = list.slice(0, Math.min(n, zoneCount)).map(zoneOf);
            expect(new Set(head).size).toBe(head.length);
            expect(list[0]).toBe(ring.owner(k));
            expect(ring.preferenceListOfHash(ring.hashOf(k), n)).toEqual(list);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("returns every node when n exceeds the node count", () => {
    const ring = new HashRing(["a", "b", "c"]);
    expect([...ring.preferenceList("k", 10)].sort()).toEqual(["a", "b", "c"]);
  });

  it("spreads replicas over data centers before reusing one", () => {
    const ring = new HashRing([
      { id: "a1", zone: "dc-a" },
      { id: "a2", zone: "dc-a" },
      { id: "a3", zone: "dc-a" },
      { id: "b1", zone: "dc-b" },
      { id: "c1", zone: "dc-c" },
    ]);
    for (let i = 0; i < 200; i++) {
      const zones = ring.preferenceList(`key-${i}`, 3).map((id) => id[0]);
      expect(new Set(zones).size).toBe(3);
    }
  });
});

describe("HashRing errors", () => {
  it("reports each bad input with its code", () => {
    const empty = new HashRing();
    expect(codeOf(() => empty.owner("k"))).toBe(HashRingErrorCode.EMPTY_RING);
    expect(codeOf(() => empty.preferenceList("k", 1))).toBe(HashRingErrorCode.EMPTY_RING);
    expect(codeOf(() => empty.ownerOfHash(5))).toBe(HashRingErrorCode.EMPTY_RING);
    expect(codeOf(() => empty.preferenceListOfHash(5, 2))).toBe(HashRingErrorCode.EMPTY_RING);
    for (const bad of [-1, 1.5, HASH_SPACE, Number.NaN, "7" as unknown as number]) {
      expect(codeOf(() => empty.ownerOfHash(bad))).toBe(HashRingErrorCode.BAD_HASH);
    }
    const ring = new HashRing(["a"]);
    expect(codeOf(() => ring.addNode("a"))).toBe(HashRingErrorCode.DUPLICATE_NODE);
    expect(codeOf(() => ring.addNode(""))).toBe(HashRingErrorCode.BAD_NODE_ID);
    expect(codeOf(() => ring.addNode(42 as unknown as string))).toBe(HashRingErrorCode.BAD_NODE_ID);
    expect(codeOf(() => ring.removeNode("zz"))).toBe(HashRingErrorCode.UNKNOWN_NODE);
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "2" as unknown as number]) {
      expect(codeOf(() => ring.addNode({ id: "w", weight }))).toBe(HashRingErrorCode.BAD_WEIGHT);
    }
    expect(codeOf(() => ring.addNode({ id: "z", zone: "" }))).toBe(HashRingErrorCode.BAD_ZONE);
    expect(codeOf(() => ring.owner(""))).toBe(HashRingErrorCode.BAD_KEY);
    expect(codeOf(() => ring.owner(7 as unknown as string))).toBe(HashRingErrorCode.BAD_KEY);
    expect(codeOf(() => ring.owner(undefined as unknown as string))).toBe(
      HashRingErrorCode.BAD_KEY,
    );
    for (const n of [0, -2, 1.5, Number.NaN]) {
      expect(codeOf(() => ring.preferenceList("k", n))).toBe(HashRingErrorCode.BAD_COUNT);
    }
    expect(codeOf(() => new HashRing([], { vnodes: 0 }))).toBe(HashRingErrorCode.BAD_OPTION);
    expect(codeOf(() => new HashRing([], { mode: "ketama", vnodes: 10 }))).toBe(
      HashRingErrorCode.BAD_OPTION,
    );
    expect(codeOf(() => new HashRing([], { mode: "sha1" as "ketama" }))).toBe(
      HashRingErrorCode.BAD_OPTION,
    );
    const dense = new HashRing([], { vnodes: 65_536 });
    expect(
      codeOf(() => {
        for (let i = 0; i < 40; i++) dense.addNode(`n${i}`);
      }),
    ).toBe(HashRingErrorCode.TOO_MANY_POINTS);
    // A failed add leaves the ring as it was.
    expect(ring.nodeIds()).toEqual(["a"]);
    expect(ring.owner("k")).toBe("a");
  });
});
