import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClusterError,
  decodeFrames,
  EMPTY_OBJECT,
  type Envelope,
  encodeEnvelope,
  type KeyObject,
  objectDigest,
} from "../../src/cluster/index.js";

const objectWith = (value: Uint8Array | null): KeyObject => ({
  ...EMPTY_OBJECT,
  siblings: [
    {
      dot: { actor: "n1:1.0", counter: 3 },
      vv: { "n2:1.0": 2 },
      hlc: { wallMs: 5, logical: 1 },
      value,
    },
  ],
});

describe("envelope codec", () => {
  it("round-trips envelopes with binary values through frames split anywhere", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.nat(),
        (values, splitSeed) => {
          const envelopes: Envelope[] = values.map((value, i) => ({
            from: "n1",
            to: "n2",
            hlc: { wallMs: 1_000 + i, logical: i },
            message: {
              type: "replicate",
              opId: `n1:1#${i}`,
              key: `k${i}`,
              object: objectWith(value),
              hintFor: null,
            },
          }));
          const stream = Buffer.concat(envelopes.map((e) => encodeEnvelope(e)));
          const split = splitSeed % (stream.length + 1);
          const first = decodeFrames(stream.subarray(0, split));
          const rest = Buffer.concat([
            stream.subarray(first.consumedBytes, split),
            stream.subarray(split),
          ]);
          const second = decodeFrames(rest);
          const decoded = [...first.envelopes, ...second.envelopes];
          expect(second.consumedBytes).toBe(rest.length);
          expect(decoded).toHaveLength(envelopes.length);
          decoded.forEach((envelope, i) => {
            const message = envelope.message;
            const original = envelopes[i]!.message;
            if (message.type !== "replicate" || original.type !== "replicate")
              throw new Error("type");
            expect(objectDigest(message.object)).toBe(objectDigest(original.object));
          });
        },
      ),
    );
  });

  it("refuses oversized and malformed frames with BAD_FRAME, never another error", () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0xffffffff, 0);
    expect(() => decodeFrames(huge)).toThrow(/exceeds/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        const frame = Buffer.alloc(4 + garbage.length);
        frame.writeUInt32BE(garbage.length, 0);
        Buffer.from(garbage).copy(frame, 4);
        try {
          decodeFrames(frame);
        } catch (error) {
          expect(error).toBeInstanceOf(ClusterError);
        }
      }),
    );
    const unknownType = Buffer.from(
      JSON.stringify({
        from: "a",
        to: "b",
        hlc: { wallMs: 1, logical: 0 },
        message: { type: "nope" },
      }),
    );
    const frame = Buffer.concat([Buffer.from([0, 0, 0, unknownType.length]), unknownType]);
    expect(() => decodeFrames(frame)).toThrow(/unknown message type/);
  });
});
