/**
 * RESP2 / RESP3 reply encoder. RESP3 adds typed nulls, maps, sets, doubles,
 * booleans and verbatim strings; under RESP2 each of those degrades exactly as
 * Redis degrades it (map → flat array, double → bulk string, boolean → 0/1,
 * verbatim → bulk string).
 */
import type { Reply } from "./reply.js";
import { ReplyWriter } from "./reply-writer.js";

export type ProtocolVersion = 2 | 3;

const CRLF = "\r\n";
const NULL_BULK_RESP2 = Buffer.from("$-1\r\n");
const NULL_ARRAY_RESP2 = Buffer.from("*-1\r\n");
const NULL_RESP3 = Buffer.from("_\r\n");
const OK_BYTES = Buffer.from("+OK\r\n");
const SMALL_INTEGERS: Buffer[] = [];
for (let i = 0; i < 1024; i++) SMALL_INTEGERS.push(Buffer.from(`:${i}\r\n`));

/** Appends the encoding of `reply` to `out` (one connection's pending replies). */
export function encodeReply(reply: Reply, protocol: ProtocolVersion, out: ReplyWriter): void {
  switch (reply.kind) {
    case "simple":
      if (reply.text === "OK") out.bytes(OK_BYTES);
      else out.utf8(`+${reply.text}${CRLF}`);
      return;
    case "error":
      out.utf8(`-${reply.text}${CRLF}`);
      return;
    case "integer": {
      const v = reply.value;
      if (typeof v === "number" && v >= 0 && v < SMALL_INTEGERS.length && Number.isInteger(v)) {
        out.bytes(SMALL_INTEGERS[v]!);
      } else if (typeof v === "number" && Number.isSafeInteger(v)) {
        out.line(0x3a /* ':' */, v);
      } else {
        out.ascii(`:${v}${CRLF}`);
      }
      return;
    }
    case "bulk":
      encodeBulk(reply.value, out);
      return;
    case "null":
      out.bytes(protocol === 3 ? NULL_RESP3 : NULL_BULK_RESP2);
      return;
    case "nullArray":
      out.bytes(protocol === 3 ? NULL_RESP3 : NULL_ARRAY_RESP2);
      return;
    case "array":
      out.line(0x2a /* '*' */, reply.items.length);
      for (const item of reply.items) encodeReply(item, protocol, out);
      return;
    case "set":
      out.ascii(`${protocol === 3 ? "~" : "*"}${reply.items.length}${CRLF}`);
      for (const item of reply.items) encodeReply(item, protocol, out);
      return;
    case "map":
      if (protocol === 3) out.ascii(`%${reply.entries.length}${CRLF}`);
      else out.ascii(`*${reply.entries.length * 2}${CRLF}`);
      for (const [key, value] of reply.entries) {
        encodeReply(key, protocol, out);
        encodeReply(value, protocol, out);
      }
      return;
    case "double":
      if (protocol === 3) out.ascii(`,${formatDouble(reply.value)}${CRLF}`);
      else encodeBulk(formatDouble(reply.value), out);
      return;
    case "boolean":
      if (protocol === 3) out.ascii(reply.value ? "#t\r\n" : "#f\r\n");
      else out.bytes(SMALL_INTEGERS[reply.value ? 1 : 0]!);
      return;
    case "verbatim":
      if (protocol === 3) {
        const body = Buffer.from(`${reply.format}:${reply.text}`);
        out.ascii(`=${body.length}${CRLF}`);
        out.bytes(body);
        out.ascii(CRLF);
      } else {
        encodeBulk(reply.text, out);
      }
      return;
    case "none":
      return;
  }
}

function encodeBulk(value: Uint8Array | string, out: ReplyWriter): void {
  if (typeof value === "string") {
    out.ascii(`$${Buffer.byteLength(value)}${CRLF}`);
    out.utf8(value);
    out.ascii(CRLF);
    return;
  }
  out.line(0x24 /* '$' */, value.length);
  out.bytes(value);
  out.crlf();
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
  const out = new ReplyWriter();
  encodeReply(reply, protocol, out);
  return out.take() ?? Buffer.alloc(0);
}
