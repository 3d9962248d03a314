import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
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

const siblingArb: fc.Arbitrary<Sibling> = fc.record({
  dot: fc.record({
    actor: fc.constantFrom("a:1.0", "b:1.0", "c:1.2"),
    counter: fc.integer({ min: 1, max: 6 }),
  }),
  vv: fc.dictionary(fc.constantFrom("a:1.0", "b:1.0", "c:1.2"), fc.integer({ min: 1, max: 6 })),
  hlc: fc.record({ wallMs: fc.nat(100), logical: fc.nat(3) }),
  value: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: null }),
});

const counterArb = fc
  .array(fc.tuple(fc.constantFrom("a", "b"), fc.integer({ min: -5, max: 5 })), { maxLength: 5 })
  .map((ops) =>
    ops.reduce((c, [actor, delta]) => incrementCounter(c, actor, delta), EMPTY_OBJECT.counter),
  );

const objectArb: fc.Arbitrary<KeyObject> = fc
  .record({
    siblings: fc.uniqueArray(siblingArb, {
      maxLength: 4,
      selector: (s) => `${s.dot.actor}/${s.dot.counter}`,
    }),
    counter: counterArb,
    floor: counterArb,
    counterHlc: fc.record({ wallMs: fc.nat(100), logical: fc.nat(3) }),
  })
  // Objects as replicas hold them: already merged (canonical), floor inside the counter.
  .map(({ siblings, counter, floor, counterHlc }) =>
    mergeObjects(EMPTY_OBJECT, { siblings, counter, counterFloor: floor, counterHlc }, "siblings"),
  );

describe("key objects", () => {
  it("merge is a join: commutative, associative, idempotent (by digest)", () => {
    fc.assert(
      fc.property(objectArb, objectArb, objectArb, (a, b, c) => {
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
