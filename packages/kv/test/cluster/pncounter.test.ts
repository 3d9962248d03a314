import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  counterValue,
  EMPTY_COUNTER,
  incrementCounter,
  mergeCounters,
  type PnCounter,
} from "../../src/cluster/pncounter.js";

describe("PN-counter", () => {
  it("counts every increment exactly once whatever the merge order", () => {
    const op = fc.record({ replica: fc.nat(2), delta: fc.integer({ min: -1000, max: 1000 }) });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(2), fc.nat(2))),
        (ops, syncs) => {
          const replicas: PnCounter[] = [EMPTY_COUNTER, EMPTY_COUNTER, EMPTY_COUNTER];
          let expected = 0;
          ops.forEach((o, i) => {
            replicas[o.replica] = incrementCounter(replicas[o.replica]!, `r${o.replica}`, o.delta);
            expected += o.delta;
            const sync = syncs[i];
            if (sync) replicas[sync[1]] = mergeCounters(replicas[sync[1]]!, replicas[sync[0]]!);
          });
          const forward = replicas.reduce((a, b) => mergeCounters(a, b));
          const backward = [...replicas].reverse().reduce((a, b) => mergeCounters(a, b));
          expect(counterValue(forward)).toBe(expected);
          expect(counterValue(backward)).toBe(expected);
          expect(counterValue(mergeCounters(forward, forward))).toBe(expected);
        },
      ),
    );
  });
});
