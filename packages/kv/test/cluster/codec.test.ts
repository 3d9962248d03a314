import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ClientReply,
  type ClientRequest,
  ClusterError,
  decodeFrames,
  EMPTY_OBJECT,
  type Envelope,
  encodeEnvelope,
  type KeyObject,
  objectDigest,
  type PeerMessage,
} from "../../src/cluster/index.js";

// ---------------------------------------------------------------------------
// Arbitraries for every peer message type, with binary values given as plain
// Uint8Arrays, Buffers, and Buffer views into a larger allocation (what the
// RESP parser hands out).
// ---------------------------------------------------------------------------

const bytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc
    .tuple(
      fc.uint8Array({ maxLength: 8 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 8 }),
    )
    .map(([before, middle, after]) =>
      Buffer.concat([before, middle, after]).subarray(before.length, before.length + middle.length),
    ),
);
const text = fc.string({ unit: "binary", maxLength: 10 });
const count = fc.nat({ max: 2 ** 40 });
const hlc = fc.record({ wallMs: count, logical: fc.nat({ max: 1_000 }) });
const vector = fc.dictionary(text, count, { maxKeys: 3, noNullPrototype: true });
const counter = fc.record({ increments: vector, decrements: vector });
const keyObject: fc.Arbitrary<KeyObject> = fc.record({
  siblings: fc.array(
    fc.record({
      dot: fc.record({ actor: text, counter: count }),
      vv: vector,
      hlc,
      value: fc.option(bytes, { nil: null }),
    }),
    { maxLength: 3 },
  ),
  counter,
  counterFloor: counter,
  counterHlc: hlc,
});
const keyed = fc.array(fc.tuple(text, keyObject), { maxLength: 3 });
const quorum = {
  n: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  r: fc.integer({ min: 1, max: 5 }),
  timeoutMs: count,
  consistency: fc.constantFrom("quorum" as const, "localQuorum" as const),
};
const quorumKeys = ["kind", "requestId", "key"] as const;
const clientRequest: fc.Arbitrary<ClientRequest> = fc.oneof(
  fc.record(
    { kind: fc.constant("get" as const), requestId: text, key: text, ...quorum },
    { requiredKeys: [...quorumKeys] },
  ),
  fc.record(
    {
      kind: fc.constant("put" as const),
      requestId: text,
      key: text,
      value: bytes,
      context: fc.option(text, { nil: null }),
      supersedeVisible: fc.boolean(),
      ...quorum,
    },
    { requiredKeys: [...quorumKeys, "value", "context", "supersedeVisible"] },
  ),
  fc.record(
    {
      kind: fc.constant("delete" as const),
      requestId: text,
      key: text,
      context: fc.option(text, { nil: null }),
      supersedeVisible: fc.boolean(),
      ...quorum,
    },
    { requiredKeys: [...quorumKeys, "context", "supersedeVisible"] },
  ),
  fc.record(
    {
      kind: fc.constant("incr" as const),
      requestId: text,
      key: text,
      delta: fc.integer(),
      ...quorum,
    },
    { requiredKeys: [...quorumKeys, "delta"] },
  ),
);
const clientReply: fc.Arbitrary<ClientReply> = fc.oneof(
  fc.record({
    kind: fc.constant("read" as const),
    requestId: text,
    key: text,
    siblings: fc.array(fc.record({ value: bytes, hlc }), { maxLength: 3 }),
    newest: fc.option(bytes, { nil: null }),
    count: fc.option(fc.integer(), { nil: null }),
    context: text,
    replied: fc.nat({ max: 5 }),
  }),
  fc.record({
    kind: fc.constant("written" as const),
    requestId: text,
    key: text,
    dot: fc.record({ actor: text, counter: count }),
    superseded: text,
    context: text,
    count: fc.option(fc.integer(), { nil: null }),
    acknowledged: fc.nat({ max: 5 }),
    warning: fc.option(text, { nil: null }),
  }),
  fc.record({
    kind: fc.constant("error" as const),
    requestId: text,
    key: text,
    code: text,
    message: text,
    replied: fc.nat({ max: 5 }),
    replicas: fc.array(text, { maxLength: 3 }),
  }),
);
const member = fc.record({
  id: text,
  address: text,
  dc: text,
  rack: text,
  weight: fc.integer({ min: 1, max: 100 }),
  status: fc.constantFrom("normal" as const, "leaving" as const, "left" as const),
  statusVersion: count,
  generation: count,
  heartbeat: count,
});
const hexes = fc.array(fc.string({ unit: "binary-ascii", maxLength: 40 }), { maxLength: 16 });

/** One arbitrary per message type: the test checks every type is covered. */
const messages: { [T in PeerMessage["type"]]: fc.Arbitrary<Extract<PeerMessage, { type: T }>> } = {
  gossip: fc.record({
    type: fc.constant("gossip" as const),
    members: fc.array(member, { maxLength: 3 }),
    suspects: fc.array(text, { maxLength: 3 }),
  }),
  replicate: fc.record({
    type: fc.constant("replicate" as const),
    opId: text,
    key: text,
    object: keyObject,
    hintFor: fc.option(text, { nil: null }),
  }),
  replicateAck: fc.record({ type: fc.constant("replicateAck" as const), opId: text }),
  read: fc.record({ type: fc.constant("read" as const), opId: text, key: text }),
  readReply: fc.record({
    type: fc.constant("readReply" as const),
    opId: text,
    object: fc.option(keyObject, { nil: null }),
  }),
  repair: fc.record({ type: fc.constant("repair" as const), key: text, object: keyObject }),
  hintReplay: fc.record({
    type: fc.constant("hintReplay" as const),
    key: text,
    object: keyObject,
  }),
  hintAck: fc.record({ type: fc.constant("hintAck" as const), key: text, digest: text }),
  aeInner: fc.record({
    type: fc.constant("aeInner" as const),
    exchangeId: text,
    partition: fc.nat({ max: 255 }),
    root: text,
    inner: hexes,
  }),
  aeLeaves: fc.record({
    type: fc.constant("aeLeaves" as const),
    exchangeId: text,
    partition: fc.nat({ max: 255 }),
    leaves: fc.array(fc.record({ inner: fc.nat({ max: 15 }), hashes: hexes }), { maxLength: 3 }),
  }),
  aeBucketDigests: fc.record({
    type: fc.constant("aeBucketDigests" as const),
    exchangeId: text,
    partition: fc.nat({ max: 255 }),
    buckets: fc.array(
      fc.record({
        bucket: fc.nat({ max: 255 }),
        digests: fc.array(fc.tuple(text, text), { maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
  }),
  aeBucketReply: fc.record({
    type: fc.constant("aeBucketReply" as const),
    exchangeId: text,
    partition: fc.nat({ max: 255 }),
    objects: keyed,
    wanted: fc.array(text, { maxLength: 3 }),
  }),
  aeObjects: fc.record({
    type: fc.constant("aeObjects" as const),
    exchangeId: text,
    partition: fc.nat({ max: 255 }),
    objects: keyed,
  }),
  reapCheck: fc.record({ type: fc.constant("reapCheck" as const), key: text, digest: text }),
  reapCheckReply: fc.record({
    type: fc.constant("reapCheckReply" as const),
    key: text,
    digest: text,
    holds: fc.boolean(),
  }),
  reap: fc.record({ type: fc.constant("reap" as const), key: text, digest: text }),
  transferProbe: fc.record({
    type: fc.constant("transferProbe" as const),
    transferId: text,
    partition: fc.nat({ max: 255 }),
  }),
  transferLeaves: fc.record({
    type: fc.constant("transferLeaves" as const),
    transferId: text,
    partition: fc.nat({ max: 255 }),
    leaves: hexes,
  }),
  transferBatch: fc.record({
    type: fc.constant("transferBatch" as const),
    transferId: text,
    partition: fc.nat({ max: 255 }),
    sequence: count,
    objects: keyed,
    totalKeys: count,
  }),
  transferAck: fc.record({
    type: fc.constant("transferAck" as const),
    transferId: text,
    sequence: count,
  }),
  forward: fc.record({
    type: fc.constant("forward" as const),
    forwardId: text,
    request: clientRequest,
  }),
  forwardReply: fc.record({
    type: fc.constant("forwardReply" as const),
    forwardId: text,
    reply: clientReply,
  }),
};

const envelope: fc.Arbitrary<Envelope> = fc.record({
  from: text,
  to: text,
  hlc,
  message: fc.oneof(...Object.values(messages)) as fc.Arbitrary<PeerMessage>,
});

/**
 * A comparable form: binary values as tagged byte arrays (so a Buffer that came
 * back as {type: "Buffer", data} or as text differs), objects as sorted entry
 * lists without undefined members (JSON has no undefined), prototypes ignored.
 */
function comparable(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === "object") {
    return Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => [k, comparable((value as Record<string, unknown>)[k])]);
  }
  return value;
}

/** Every binary value decoded is a plain Uint8Array (not a Buffer, not a JSON object). */
function binaryValuesArePlain(value: unknown): boolean {
  if (value instanceof Uint8Array) return value.constructor === Uint8Array;
  if (Array.isArray(value)) return value.every(binaryValuesArePlain);
  if (value !== null && typeof value === "object") {
    if ((value as { type?: unknown }).type === "Buffer") return false;
    return Object.values(value).every(binaryValuesArePlain);
  }
  return true;
}

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
  it("round-trips every message type, binary values given as Uint8Array, Buffer or a Buffer view", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(envelope, (original) => {
        seen.add(original.message.type);
        const { envelopes, consumedBytes } = decodeFrames(encodeEnvelope(original));
        expect(envelopes).toHaveLength(1);
        expect(consumedBytes).toBeGreaterThan(4);
        const decoded = envelopes[0]!;
        expect(comparable(decoded)).toEqual(comparable(original));
        expect(binaryValuesArePlain(decoded)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
    expect([...seen].sort()).toEqual(Object.keys(messages).sort());
  });

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
