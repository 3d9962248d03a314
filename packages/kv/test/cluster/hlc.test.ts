import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareHlc, type HlcTimestamp, HybridLogicalClock } from "../../src/cluster/hlc.js";

describe("hybrid logical clock", () => {
  it("never goes backwards and orders receives after sends, whatever the physical clocks do", () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant("local" as const), nowMs: fc.nat(1000) }),
      fc.record({
        kind: fc.constant("receive" as const),
        nowMs: fc.nat(1000),
        wallMs: fc.nat(2000),
        logical: fc.nat(5),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 50 }), (events) => {
        const clock = new HybridLogicalClock();
        let last: HlcTimestamp = clock.peek();
        for (const e of events) {
          const next = e.kind === "local" ? clock.now(e.nowMs) : clock.observe(e, e.nowMs);
          expect(compareHlc(next, last)).toBe(1);
          expect(next.wallMs).toBeGreaterThanOrEqual(e.nowMs);
          if (e.kind === "receive") expect(compareHlc(next, e)).toBe(1);
          last = next;
        }
      }),
    );
  });
});
