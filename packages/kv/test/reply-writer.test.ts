/** The per-connection reply buffer (reply-writer.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReplyWriter } from "../src/resp/reply-writer.js";

type Step =
  | { op: "ascii"; text: string }
  | { op: "utf8"; text: string }
  | { op: "bytes"; data: Uint8Array }
  | { op: "line"; type: number; n: number }
  | { op: "crlf" }
  | { op: "take" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant("ascii" as const),
    text: fc.string({ unit: "grapheme-ascii", maxLength: 40 }),
  }),
  fc.record({
    op: fc.constant("utf8" as const),
    text: fc.string({ unit: "grapheme", maxLength: 40 }),
  }),
  fc.record({
    op: fc.constant("bytes" as const),
    // Mostly small; sometimes past a chunk or past the by-reference size.
    data: fc.oneof(
      fc.uint8Array({ maxLength: 100 }),
      fc.integer({ min: 3000, max: 40_000 }).map((n) => new Uint8Array(n).fill(n % 251)),
    ),
  }),
  fc.record({
    op: fc.constant("line" as const),
    type: fc.constantFrom(0x24, 0x2a, 0x3a),
    n: fc.oneof(
      fc.integer({ min: -20, max: 20 }),
      fc.maxSafeInteger(),
      fc.maxSafeNat().map((n) => -n),
    ),
  }),
  fc.constant({ op: "crlf" as const }),
  fc.constant({ op: "take" as const }),
);

describe("reply writer", () => {
  it("hands out exactly what was written, in order, and never changes a taken view", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200, size: "max" }), (steps) => {
        const writer = new ReplyWriter();
        const expected: Buffer[] = [];
        const taken: { view: Buffer; copy: Buffer }[] = [];
        const takeAll = () => {
          const view = writer.take();
          const want = Buffer.concat(expected.splice(0));
          if (view === undefined) expect(want.length).toBe(0);
          else {
            expect(view.equals(want)).toBe(true);
            taken.push({ view, copy: Buffer.from(view) });
          }
        };
        for (const s of steps) {
          if (s.op === "take") takeAll();
          else if (s.op === "ascii") {
            writer.ascii(s.text);
            expected.push(Buffer.from(s.text, "latin1"));
          } else if (s.op === "utf8") {
            writer.utf8(s.text);
            expected.push(Buffer.from(s.text, "utf8"));
          } else if (s.op === "line") {
            writer.line(s.type, s.n);
            expected.push(Buffer.from(`${String.fromCharCode(s.type)}${s.n}\r\n`, "latin1"));
          } else if (s.op === "crlf") {
            writer.crlf();
            expected.push(Buffer.from("\r\n"));
          } else {
            writer.bytes(s.data);
            expected.push(Buffer.from(s.data));
          }
        }
        takeAll();
        expect(writer.take()).toBeUndefined();
        for (const { view, copy } of taken) expect(view.equals(copy)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
