/**
 * Wire encoding of peer envelopes, for the I/O shell's transport.
 *
 * Frame = 4-byte big-endian length + UTF-8 JSON of the Envelope, in which every
 * Uint8Array (values) — a Buffer too — is written as {"$b64": "<base64>"} and
 * decoded as a plain Uint8Array. JSON keeps the format
 * readable in packet captures and needs no schema compiler; values are the only
 * binary part. A frame longer than ENVELOPE_MAX_BYTES is refused before parsing,
 * and a decoded envelope is checked for its shape (addresses, HLC, a known
 * message type) before the node sees it.
 * WARNING: both ends of a connection must speak the same format version; the
 * first frame on a connection is the shell's handshake, not defined here.
 */
import { ClusterError, ClusterErrorCode } from "./errors.js";
import type { Envelope, PeerMessage } from "./messages.js";

/** Largest frame accepted: bounds memory per message (transfer batches are the biggest). */
export const ENVELOPE_MAX_BYTES = 64 * 1024 * 1024;

const MESSAGE_TYPES: ReadonlySet<PeerMessage["type"]> = new Set<PeerMessage["type"]>([
  "gossip",
  "replicate",
  "replicateAck",
  "read",
  "readReply",
  "repair",
  "hintReplay",
  "hintAck",
  "aeInner",
  "aeLeaves",
  "aeBucketDigests",
  "aeBucketReply",
  "aeObjects",
  "reapCheck",
  "reapCheckReply",
  "reap",
  "transferProbe",
  "transferLeaves",
  "transferBatch",
  "transferAck",
  "forward",
  "forwardReply",
]);

/**
 * JSON.stringify replacer for binary values. It looks at the holder's own
 * property (`this[key]`), not at `value`: JSON.stringify calls a value's
 * toJSON before the replacer, and Buffer#toJSON turns a Buffer into
 * {type: "Buffer", data: [...]}, which would decode as that object.
 */
function binaryReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) {
    return { $b64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64") };
  }
  return value;
}

/** Encode an envelope as one length-prefixed frame. */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const json = JSON.stringify(envelope, binaryReplacer);
  const body = Buffer.from(json, "utf8");
  if (body.length > ENVELOPE_MAX_BYTES) {
    throw new ClusterError(
      ClusterErrorCode.BAD_FRAME,
      `envelope of ${body.length} bytes exceeds the ${ENVELOPE_MAX_BYTES}-byte frame limit`,
    );
  }
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/**
 * Split complete frames off the front of `buffer` (bytes received so far).
 * Returns the decoded envelopes and how many bytes they used; the caller keeps
 * the rest for the next chunk. Throws BAD_FRAME on an oversized or malformed
 * frame: the shell should close that connection.
 */
export function decodeFrames(buffer: Uint8Array): { envelopes: Envelope[]; consumedBytes: number } {
  const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const envelopes: Envelope[] = [];
  let at = 0;
  while (bytes.length - at >= 4) {
    const length = bytes.readUInt32BE(at);
    if (length > ENVELOPE_MAX_BYTES) {
      throw new ClusterError(
        ClusterErrorCode.BAD_FRAME,
        `frame of ${length} bytes exceeds the ${ENVELOPE_MAX_BYTES}-byte limit`,
      );
    }
    if (bytes.length - at - 4 < length) break;
    envelopes.push(decodeEnvelope(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return { envelopes, consumedBytes: at };
}

/** Decode one frame body (without the length prefix). */
export function decodeEnvelope(body: Uint8Array): Envelope {
  const bad = (why: string) =>
    new ClusterError(ClusterErrorCode.BAD_FRAME, `malformed envelope: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"),
      (_key, value: unknown) => {
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
          const b64 = (value as { $b64?: unknown }).$b64;
          if (typeof b64 === "string" && Object.keys(value).length === 1) {
            return new Uint8Array(Buffer.from(b64, "base64"));
          }
        }
        return value;
      },
    );
  } catch {
    throw bad("not JSON");
  }
  if (parsed === null || typeof parsed !== "object") throw bad("not an object");
  const envelope = parsed as Partial<Envelope>;
  if (typeof envelope.from !== "string" || typeof envelope.to !== "string")
    throw bad("from/to missing");
  const hlc = envelope.hlc;
  if (
    hlc === undefined ||
    typeof hlc !== "object" ||
    !Number.isFinite(hlc.wallMs) ||
    !Number.isFinite(hlc.logical)
  ) {
    throw bad("hlc missing");
  }
  const message = envelope.message;
  if (message === undefined || typeof message !== "object" || !MESSAGE_TYPES.has(message.type)) {
    throw bad("unknown message type");
  }
  return envelope as Envelope;
}
