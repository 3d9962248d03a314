/**
 * RESP2 / RESP3 reply encoder. RESP3 adds typed nulls, maps, sets, doubles,
 * booleans and verbatim strings; under RESP2 each of those degrades exactly as
 * Redis degrades it (map → flat array, double → bulk string, boolean → 0/1,
 * verbatim → bulk string).
 */
import type { Reply } from "./reply.js";

export type ProtocolVersion = 2 | 3;

const CRLF = "\r\n";
const NULL_BULK_RESP2 = Buffer.from("$-1\r\n");
const NULL_ARRAY_RESP2 = Buffer.from("*-1\r\n");
const NULL_RESP3 = Buffer.from("_\r\n");
const OK_BYTES = Buffer.from("+OK\r\n");
const SMALL_INTEGERS: Buffer[] = [];
for (let i = 0; i < 1024; i++) SMALL_INTEGERS.push(Buffer.from(`:${i}\r\n`));

/** Appends the encoding of `reply` to `out` (a list of chunks written together). */
export function encodeReply(reply: Reply, protocol: ProtocolVersion, out: Buffer[]): void {
  switch (reply.kind) {
    case "simple":
      out.push(reply.text === "OK" ? OK_BYTES : Buffer.from(`+${reply.text}${CRLF}`));
      return;
    case "error":
      out.push(Buffer.from(`-${reply.text}${CRLF}`));
      return;
    case "integer": {
      const v = reply.value;
      if (typeof v === "number" && v >= 0 && v < SMALL_INTEGERS.length && Number.isInteger(v)) {
        out.push(SMALL_INTEGERS[v]!);
      } else {
        out.push(Buffer.from(`:${v}${CRLF}`));
      }
      return;
    }
    case "bulk":
      encodeBulk(reply.value, out);
      return;
    case "null":
      out.push(protocol === 3 ? NULL_RESP3 : NULL_BULK_RESP2);
      return;
    case "nullArray":
      out.push(protocol === 3 ? NULL_RESP3 : NULL_ARRAY_RESP2);
      return;
    case "array":
      out.push(Buffer.from(`*${reply.items.length}${CRLF}`));
      for (const item of reply.items) encodeReply(item, protocol, out);
      return;
    case "set":
      out.push(Buffer.from(`${protocol === 3 ? "~" : "*"}${reply.items.length}${CRLF}`));
      for (const item of reply.items) encodeReply(item, protocol, out);
      return;
    case "map":
      if (protocol === 3) out.push(Buffer.from(`%${reply.entries.length}${CRLF}`));
      else out.push(Buffer.from(`*${reply.entries.length * 2}${CRLF}`));
      for (const [key, value] of reply.entries) {
        encodeReply(key, protocol, out);
        encodeReply(value, protocol, out);
      }
      return;
    case "double":
      if (protocol === 3) out.push(Buffer.from(`,${formatDouble(reply.value)}${CRLF}`));
      else encodeBulk(formatDouble(reply.value), out);
      return;
    case "boolean":
      if (protocol === 3) out.push(Buffer.from(reply.value ? "#t\r\n" : "#f\r\n"));
      else out.push(SMALL_INTEGERS[reply.value ? 1 : 0]!);
      return;
    case "verbatim":
      if (protocol === 3) {
        const body = Buffer.from(`${reply.format}:${reply.text}`);
        out.push(Buffer.from(`=${body.length}${CRLF}`), body, Buffer.from(CRLF));
      } else {
        encodeBulk(reply.text, out);
      }
      return;
    case "none":
      return;
  }
}

function encodeBulk(value: Uint8Array | string, out: Buffer[]): void {
  if (typeof value === "string") {
    const length = Buffer.byteLength(value);
    out.push(Buffer.from(`$${length}${CRLF}${value}${CRLF}`));
    return;
  }
  if (value.length < 512) {
    // One small buffer beats three chunks for the common short value.
    const header = `$${value.length}${CRLF}`;
    const buffer = Buffer.allocUnsafe(header.length + value.length + 2);
    buffer.write(header, 0, "latin1");
    buffer.set(value, header.length);
    buffer[buffer.length - 2] = 13;
    buffer[buffer.length - 1] = 10;
    out.push(buffer);
    return;
  }
  out.push(
    Buffer.from(`$${value.length}${CRLF}`),
    Buffer.from(value.buffer, value.byteOffset, value.length),
    Buffer.from(CRLF),
  );
}

/** Formats a double the way Redis 7 does for RESP3 (`inf`, `-inf`, `nan`, shortest round-trip). */
export function formatDouble(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isNaN(value)) return "nan";
  return String(value);
}

/** Encodes one reply to a single buffer (tests and the HTTP /info bridge use it). */
export function encodeReplyToBuffer(reply: Reply, protocol: ProtocolVersion): Buffer {
  const chunks: Buffer[] = [];
  encodeReply(reply, protocol, chunks);
  return Buffer.concat(chunks);
}
