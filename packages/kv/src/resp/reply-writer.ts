/**
 * Where one connection's encoded replies collect until its next socket
 * write. Replies are copied into a chunk the writer owns, one after another,
 * and `take()` hands everything written since the last take to the socket as
 * one view — no buffer per reply and no concatenation per write (both showed
 * in the node's profiles: a GET reply was an allocation, a copy, and a copy
 * again in Buffer.concat). Values of BY_REFERENCE_BYTES or more are not
 * copied: the pending bytes so far become one part and the value another.
 *
 * A taken view stays valid: the writer never writes over bytes it handed
 * out, it moves on in the chunk and takes a fresh chunk when it is full.
 */
import { putBytes } from "@scaleout/lsm";

/** Chunk size: below Node's pool threshold, so a new chunk is a slice of the shared pool. */
const CHUNK_BYTES = 4000;

/** Values at least this long go to the socket by reference instead of being copied. */
const BY_REFERENCE_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);
/** A type byte, a sign, 16 digits (every safe integer) and CRLF. */
const MAX_LINE_BYTES = 20;

export class ReplyWriter {
  private chunk: Buffer = EMPTY;
  /** Pending bytes in `chunk` are [start, end). */
  private start = 0;
  private end = 0;
  /** Earlier pending parts (a full chunk's tail, a value by reference), in order. */
  private parts: Buffer[] = [];

  /** Appends protocol text that is ASCII only (type bytes, lengths, CRLF). */
  ascii(text: string): void {
    this.reserve(text.length);
    this.end += this.chunk.write(text, this.end, "latin1");
  }

  /** Appends text as UTF-8 (simple strings and errors may carry any text). */
  utf8(text: string): void {
    const length = Buffer.byteLength(text);
    this.reserve(length);
    this.end += this.chunk.write(text, this.end, length, "utf8");
  }

  bytes(data: Uint8Array): void {
    if (data.length >= BY_REFERENCE_BYTES) {
      this.seal();
      this.parts.push(Buffer.from(data.buffer, data.byteOffset, data.length));
      return;
    }
    this.reserve(data.length);
    // Short values by a JS loop: the native copy's call costs more than it copies.
    this.end = putBytes(this.chunk, this.end, data);
  }

  /**
   * Appends `type` (a RESP type byte such as '$', '*' or ':'), the integer
   * `n` (a safe integer) in decimal and CRLF — a bulk length or an integer
   * reply without making a string.
   */
  line(type: number, n: number): void {
    this.reserve(MAX_LINE_BYTES);
    const chunk = this.chunk;
    let p = this.end;
    chunk[p++] = type;
    let magnitude = n;
    if (n < 0) {
      chunk[p++] = 0x2d;
      magnitude = -n;
    }
    let digits = 1;
    for (let rest = magnitude; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    for (let i = p + digits - 1; i >= p; i--) {
      chunk[i] = 0x30 + (magnitude % 10);
      magnitude = Math.floor(magnitude / 10);
    }
    p += digits;
    chunk[p++] = 0x0d;
    chunk[p++] = 0x0a;
    this.end = p;
  }

  crlf(): void {
    this.reserve(2);
    this.chunk[this.end++] = 0x0d;
    this.chunk[this.end++] = 0x0a;
  }

  /** Everything written since the last take, as one buffer; undefined when nothing was. */
  take(): Buffer | undefined {
    if (this.parts.length === 0) {
      if (this.end === this.start) return undefined;
      const view = this.chunk.subarray(this.start, this.end);
      this.start = this.end;
      return view;
    }
    this.seal();
    const parts = this.parts;
    this.parts = [];
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  private reserve(length: number): void {
    if (this.chunk.length - this.end >= length) return;
    this.seal();
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length));
    this.start = 0;
    this.end = 0;
  }

  /** Moves the pending bytes of the current chunk into `parts`. */
  private seal(): void {
    if (this.end > this.start) {
      this.parts.push(this.chunk.subarray(this.start, this.end));
      this.start = this.end;
    }
  }
}
