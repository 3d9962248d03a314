import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PARTITION_COUNT } from "../../src/cluster/constants.js";
import {
  locateKey,
  PartitionTable,
  planPartitionMoves,
  selectTargets,
} from "../../src/cluster/placement.js";
import { hashRingFactory } from "../../src/cluster/ring.js";

const members = (count: number, dcs: number) =>
  Array.from({ length: count }, (_, i) => ({ id: `n${i}`, dc: `dc${i % dcs}`, weight: 1 }));

describe("placement", () => {
  it("puts a partition's N home replicas on distinct nodes in distinct data centers first", () => {
    const table = new PartitionTable(hashRingFactory(members(6, 3)), 3);
    for (let p = 0; p < PARTITION_COUNT; p += 1) {
      const home = table.home(p);
      expect(new Set(home).size).toBe(3);
      expect(new Set(home.map((id) => Number(id.slice(1)) % 3)).size).toBe(3);
      expect(table.order(p)).toHaveLength(6);
    }
  });

  it("spreads home replicas over racks after data centers, whatever the layout", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 9,
        }),
        (layout) => {
          const nodes = layout.map(([dc, rack], i) => ({
            id: `n${i}`,
            dc: `dc${dc}`,
            rack: `r${rack}`,
            weight: 1,
          }));
          const table = new PartitionTable(hashRingFactory(nodes), 3, nodes);
          const dcsAll = new Set(nodes.map((m) => m.dc));
          const racksAll = new Set(nodes.map((m) => `${m.dc}/${m.rack}`));
          for (let p = 0; p < PARTITION_COUNT; p += 1) {
            const home = table.home(p).map((id) => nodes.find((m) => m.id === id)!);
            expect(home).toHaveLength(Math.min(3, nodes.length));
            expect(table.order(p)).toHaveLength(nodes.length);
            // As many DCs as possible, then as many racks as possible.
            expect(new Set(home.map((m) => m.dc)).size).toBe(Math.min(home.length, dcsAll.size));
            expect(new Set(home.map((m) => `${m.dc}/${m.rack}`)).size).toBe(
              Math.min(home.length, racksAll.size),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
    // One DC, racks r0 r0 r1 r1 r2 r2: every partition has one replica per rack.
    const paired = Array.from({ length: 6 }, (_, i) => ({
      id: `n${i}`,
      dc: "dc0",
      rack: `r${Math.floor(i / 2)}`,
      weight: 1,
    }));
    const table = new PartitionTable(hashRingFactory(paired), 3, paired);
    for (let p = 0; p < PARTITION_COUNT; p += 1) {
      expect(new Set(table.home(p).map((id) => Math.floor(Number(id.slice(1)) / 2))).size).toBe(3);
    }
  });

  it("spreads keys over partitions and buckets", () => {
    const partitions = new Set<number>();
    for (let i = 0; i < 5000; i += 1) partitions.add(locateKey(`key-${i}`).partition);
    expect(partitions.size).toBe(PARTITION_COUNT);
  });

  it("sloppy quorum: a down home replica is replaced by the next healthy node, with a hint", () => {
    fc.assert(
      fc.property(fc.subarray(["a", "b", "c", "d", "e"]), (down) => {
        const order = ["a", "b", "c", "d", "e"];
        const targets = selectTargets(order, 3, (id) => !down.includes(id));
        const healthy = order.filter((id) => !down.includes(id));
        expect(targets).toHaveLength(Math.min(3, healthy.length));
        expect(new Set(targets.map((t) => t.node)).size).toBe(targets.length);
        for (const t of targets) {
          expect(down).not.toContain(t.node);
          if (t.hintFor !== null) {
            expect(down).toContain(t.hintFor);
            expect(["a", "b", "c"]).not.toContain(t.node);
          } else expect(["a", "b", "c"]).toContain(t.node);
        }
      }),
    );
  });

  it("moves about 1/n of the partitions when a node joins", () => {
    const before = new PartitionTable(hashRingFactory(members(4, 1)), 1);
    const after = new PartitionTable(hashRingFactory(members(5, 1)), 1);
    const moves = planPartitionMoves(before, after);
    for (const move of moves) expect(move.gained).toEqual(["n4"]);
    // The ideal is 256/5 ≈ 51; allow the ring's imbalance.
    expect(moves.length).toBeGreaterThan(25);
    expect(moves.length).toBeLessThan(90);
  });
});
