/** Small integers as value bytes: the parser matches Redis's rules, the writer matches String(n). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseSmallInteger,
  SMALL_INTEGER_MAX_CHARS,
  smallIntegerBytes,
} from "../src/integer-bytes.js";
import { decodeEntry, encodeEntry } from "../src/storage/entry-codec.js";

/** Redis's string2ll, restricted to what parseSmallInteger takes, as a reference. */
function reference(text: string): number | undefined {
  if (text.length === 0 || text.length > SMALL_INTEGER_MAX_CHARS) return undefined;
  if (!/^-?(0|[1-9][0-9]*)$/.test(text) || text === "-0") return undefined;
  return Number(text);
}

describe("small integers", () => {
  it("parses exactly the canonical integers of up to 15 characters, at any offset", () => {
    const text = fc.oneof(
      fc.integer().map(String),
      fc.double().map(String),
      fc.stringMatching(/^[-+ 0-9a]{0,17}$/),
      fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(String),
    );
    fc.assert(
      fc.property(text, fc.nat(5), (value, offset) => {
        const bytes = Buffer.concat([Buffer.alloc(offset, 0x37), Buffer.from(value, "latin1")]);
        expect(parseSmallInteger(bytes, offset, bytes.length)).toBe(reference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes the same digits as String(n)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
        expect(smallIntegerBytes(n).toString("latin1")).toBe(String(n));
      }),
      { numRuns: 2000 },
    );
    for (const n of [0, -1, 9, 10, -10, 99, 100, 999_999_999_999_999]) {
      expect(smallIntegerBytes(n).toString("latin1")).toBe(String(n));
    }
  });

  it("reads a stored entry's integer and value from its bytes (lsm entries)", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer().map(String), fc.string()),
        fc.nat(),
        fc.nat(),
        (text, flags, cas) => {
          const value = Buffer.from(text, "latin1");
          const decoded = decodeEntry(encodeEntry({ value, flags, expiresAtMs: 0, cas }));
          expect(Buffer.from(decoded.value).equals(value)).toBe(true);
          expect(decoded.integer).toBe(reference(text));
          expect([decoded.flags, decoded.cas, decoded.expiresAtMs]).toEqual([flags, cas, 0]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
