import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  contextOf,
  decodeObject,
  EMPTY_OBJECT,
  encodeObject,
  incrementCounter,
  isDeleted,
  type KeyObject,
  mergeObjects,
  objectDigest,
  resolveNewest,
  type Sibling,
  visibleCount,
} from "../../src/cluster/index.js";

const counterArb = fc
  .array(fc.tuple(fc.constantFrom("a", "b"), fc.integer({ min: -5, max: 5 })), { maxLength: 5 })
  .map((ops) =>
    ops.reduce((c, [actor, delta]) => incrementCounter(c, actor, delta), EMPTY_OBJECT.counter),
  );

/** An object as a replica holds it: merged (canonical), floor inside the counter. */
function objectFrom(universe: readonly Sibling[]): fc.Arbitrary<KeyObject> {
  return fc
    .record({
      siblings: fc.subarray([...universe]),
      counter: counterArb,
      floor: counterArb,
      counterHlc: fc.record({ wallMs: fc.nat(100), logical: fc.nat(3) }),
    })
    .map(({ siblings, counter, floor, counterHlc }) =>
      mergeObjects(
        EMPTY_OBJECT,
        { siblings, counter, counterFloor: floor, counterHlc },
        "siblings",
      ),
    );
}

/**
 * A universe of siblings as real histories make them: each write's context is
 * what the writer read (the context of some earlier writes), so "saw" is
 * transitive and a dot names exactly one event.
 */
const universeArb: fc.Arbitrary<Sibling[]> = fc
  .array(
    fc.record({
      actor: fc.constantFrom("a:1.0", "b:1.0", "c:1.2"),
      read: fc.array(fc.nat(20), { maxLength: 3 }),
      wallMs: fc.nat(100),
      value: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: null }),
    }),
    { maxLength: 7 },
  )
  .map((steps) => {
    const counters = new Map<string, number>();
    const out: Sibling[] = [];
    for (const step of steps) {
      const counter = (counters.get(step.actor) ?? 0) + 1;
      counters.set(step.actor, counter);
      const seen = step.read.filter((i) => i < out.length).map((i) => out[i]!);
      out.push({
        dot: { actor: step.actor, counter },
        vv: contextOf(seen),
        hlc: { wallMs: step.wallMs, logical: 0 },
        value: step.value,
      });
    }
    return out;
  });

/** Three replicas' objects drawn from one universe of siblings. */
const replicasArb = universeArb.chain((universe) =>
  fc.tuple(objectFrom(universe), objectFrom(universe), objectFrom(universe)),
);
const objectArb = replicasArb.map(([a]) => a);

describe("key objects", () => {
  it("merge is a join: commutative, associative, idempotent (by digest)", () => {
    fc.assert(
      fc.property(replicasArb, ([a, b, c]) => {
        const d = (o: KeyObject) => objectDigest(o);
        expect(d(mergeObjects(a, b, "siblings"))).toBe(d(mergeObjects(b, a, "siblings")));
        expect(d(mergeObjects(mergeObjects(a, b, "siblings"), c, "siblings"))).toBe(
          d(mergeObjects(a, mergeObjects(b, c, "siblings"), "siblings")),
        );
        expect(d(mergeObjects(a, a, "siblings"))).toBe(d(a));
      }),
    );
  });

  it("encodes canonically and round-trips", () => {
    fc.assert(
      fc.property(objectArb, (o) => {
        const decoded = decodeObject(encodeObject(o));
        expect(encodeObject(decoded)).toBe(encodeObject(o));
      }),
    );
  });

  it("a delete resets the count but keeps increments it did not see (add-wins)", () => {
    let replicaA: KeyObject = {
      ...EMPTY_OBJECT,
      counter: incrementCounter(EMPTY_OBJECT.counter, "a", 4),
    };
    let replicaB = replicaA;
    replicaA = { ...replicaA, counterFloor: replicaA.counter }; // DEL at A
    replicaB = {
      ...replicaB,
      counter: incrementCounter(replicaB.counter, "b", 3),
      counterHlc: { wallMs: 9, logical: 0 },
    };
    const merged = mergeObjects(replicaA, replicaB, "siblings");
    expect(visibleCount(merged)).toBe(3);
    expect(isDeleted(replicaA)).toBe(true);
    expect(resolveNewest(merged)).toEqual({
      kind: "count",
      count: 3,
      hlc: { wallMs: 9, logical: 0 },
    });
  });
});
