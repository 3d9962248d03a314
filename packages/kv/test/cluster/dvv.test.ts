import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyWrite,
  contextOf,
  covers,
  decodeContext,
  dotKey,
  EMPTY_VV,
  encodeContext,
  mergeSiblings,
  newestSibling,
  pruneVector,
  type Sibling,
  type VersionVector,
} from "../../src/cluster/dvv.js";
import { ClusterError } from "../../src/cluster/errors.js";

const limits = { warnCount: 25, maxCount: 100 };

function sibling(
  actor: string,
  counter: number,
  vv: VersionVector,
  value: string | null,
  wallMs = counter,
): Sibling {
  return {
    dot: { actor, counter },
    vv,
    hlc: { wallMs, logical: 0 },
    value: value === null ? null : new TextEncoder().encode(value),
  };
}

/** A random history: writes at replicas with contexts read from replicas, and syncs. */
type Step =
  | { kind: "write"; at: number; readFrom: number | null }
  | { kind: "sync"; from: number; to: number };

const stepArb = (replicas: number): fc.Arbitrary<Step> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("write" as const),
      at: fc.nat(replicas - 1),
      readFrom: fc.option(fc.nat(replicas - 1), { nil: null }),
    }),
    fc.record({
      kind: fc.constant("sync" as const),
      from: fc.nat(replicas - 1),
      to: fc.nat(replicas - 1),
    }),
  );

interface History {
  states: Sibling[][];
  writes: Sibling[];
}

function runHistory(steps: readonly Step[], replicas: number): History {
  const states: Sibling[][] = Array.from({ length: replicas }, () => []);
  const counters = new Array<number>(replicas).fill(0);
  const writes: Sibling[] = [];
  let clock = 0;
  for (const step of steps) {
    clock += 1;
    if (step.kind === "write") {
      const context = step.readFrom === null ? EMPTY_VV : contextOf(states[step.readFrom]!);
      counters[step.at]! += 1;
      const created = sibling(`n${step.at}`, counters[step.at]!, context, `v${clock}`, clock);
      writes.push(created);
      states[step.at] = applyWrite("k", states[step.at]!, created, {
        warnCount: 1000,
        maxCount: 1000,
      }).siblings;
    } else {
      states[step.to] = mergeSiblings(states[step.to]!, states[step.from]!);
    }
  }
  return { states, writes };
}

const historyArb = fc.array(stepArb(3), { maxLength: 40 }).map((steps) => runHistory(steps, 3));

const keys = (s: readonly Sibling[]): string[] => s.map((x) => dotKey(x.dot));

describe("dotted version vectors", () => {
  it("merge is commutative, associative and idempotent", () => {
    fc.assert(
      fc.property(historyArb, ({ states }) => {
        const [a, b, c] = states as [Sibling[], Sibling[], Sibling[]];
        expect(keys(mergeSiblings(a, b))).toEqual(keys(mergeSiblings(b, a)));
        expect(keys(mergeSiblings(mergeSiblings(a, b), c))).toEqual(
          keys(mergeSiblings(a, mergeSiblings(b, c))),
        );
        expect(keys(mergeSiblings(a, a))).toEqual(keys(mergeSiblings(a, [])));
      }),
      { numRuns: 300 },
    );
  });

  it("after syncing everything, a write is present unless a later write's context saw it", () => {
    fc.assert(
      fc.property(historyArb, ({ states, writes }) => {
        const all = states.reduce((acc, s) => mergeSiblings(acc, s), [] as Sibling[]);
        const present = new Set(keys(all));
        for (const w of writes) {
          const seen = writes.some((other) => other !== w && covers(other.vv, w.dot));
          // Survival: not seen by anyone ⇒ still there. No resurrection: seen ⇒ gone.
          expect(present.has(dotKey(w.dot))).toBe(!seen);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("keeps two context-free writes through one coordinator as siblings (no false merge)", () => {
    const first = sibling("a", 1, EMPTY_VV, "x");
    const second = sibling("a", 2, EMPTY_VV, "y");
    let state = applyWrite("k", [], first, limits).siblings;
    state = applyWrite("k", state, second, limits).siblings;
    expect(state.map((s) => s.dot.counter)).toEqual([1, 2]);
    const resolved = sibling("b", 1, contextOf(state), "z");
    expect(applyWrite("k", state, resolved, limits).siblings.map((s) => s.dot.actor)).toEqual([
      "b",
    ]);
  });

  it("a tombstone with a context supersedes exactly what it saw", () => {
    const x = sibling("a", 1, EMPTY_VV, "x");
    const y = sibling("b", 1, EMPTY_VV, "y");
    const tomb = sibling("a", 2, contextOf([x]), null);
    const merged = mergeSiblings(mergeSiblings([x, y], [tomb]), [x]);
    expect(merged.map((s) => s.value === null)).toEqual([true, false]);
  });

  it("warns past the warn count and refuses past the maximum", () => {
    let state: Sibling[] = [];
    let warning: string | null = null;
    for (let i = 1; i <= 4; i += 1) {
      ({ siblings: state, warning } = applyWrite("k", state, sibling("a", i, EMPTY_VV, `${i}`), {
        warnCount: 2,
        maxCount: 4,
      }));
    }
    expect(warning).toMatch(/4 siblings/);
    expect(() =>
      applyWrite("k", state, sibling("a", 5, EMPTY_VV, "5"), { warnCount: 2, maxCount: 4 }),
    ).toThrow(/would have 5 siblings \(limit 4\)/);
  });

  it("picks the newest sibling by HLC", () => {
    const s = [sibling("a", 1, EMPTY_VV, "old", 5), sibling("b", 1, EMPTY_VV, "new", 9)];
    expect(newestSibling(s)?.dot.actor).toBe("b");
  });

  it("round-trips contexts and refuses malformed ones with a clear error", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 2 ** 50 })),
        (vv) => {
          expect(decodeContext(encodeContext(vv))).toEqual(vv);
        },
      ),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          decodeContext(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ClusterError);
        }
      }),
    );
    expect(() => decodeContext("AQ")).toThrow(/truncated varint/);
  });

  it("prunes to the threshold, dropping retired actors first", () => {
    const vv: VersionVector = { "n1:0": 50, "n1:1": 3, "n2:1": 1, "n3:0": 9 };
    const pruned = pruneVector(vv, 2, new Set(["n1:1", "n2:1"]));
    expect(pruned).toEqual({ "n1:1": 3, "n2:1": 1 });
    expect(pruneVector(vv, 10, new Set())).toBe(vv);
  });
});
