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

/** Chunk size: below Node's pool threshold, so a new chunk is a slice of the shared pool. */
const CHUNK_BYTES = 4000;
/** Values at least this long go to the socket by reference instead of being copied. */
const BY_REFERENCE_BYTES = 16 * 1024;

const EMPTY = Buffer.alloc(0);

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
    this.chunk.set(data, this.end);
    this.end += data.length;
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
