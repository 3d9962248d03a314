/**
 * Streaming RESP request parser: multibulk (`*N\r\n$len\r\narg\r\n…`) and
 * inline commands (`SET k v\n` typed into telnet), fed with TCP chunks split
 * anywhere. It follows Redis 7's `processMultibulkBuffer` /
 * `processInlineBuffer` (networking.c) closely, including its error texts and
 * its quirks (the two bytes after a bulk payload are skipped unchecked; a
 * count line ends at the first `\r`; `*0` and negative counts are ignored).
 *
 * Copying: complete commands are sliced out of the chunk as views (no copy);
 * a partial header is re-joined with the next chunk (bounded by
 * INLINE_MAX_SIZE_BYTES); a large bulk payload that spans chunks is copied
 * once into a buffer of its exact size, so a value of n bytes costs O(n)
 * whatever the chunking. Consumers must copy arguments they keep (the
 * storage engines do).
 *
 * With `ranges: true` (the server's parser) a command whose arguments all
 * lie in one chunk — nearly every command — is emitted as offsets into that
 * chunk instead of a view per argument: making a Buffer view costs ~100 ns,
 * and an MSET of ten keys has 21 arguments. Hot commands (MSET) are run
 * straight from the offsets; the rest get views made from them (`argsOf`).
 */
import { parseRedisInteger } from "../integer-bytes.js";
import {
  BIG_ARG_SIZE_BYTES,
  INLINE_MAX_SIZE_BYTES,
  UNAUTHENTICATED_BULK_MAX_BYTES,
  UNAUTHENTICATED_MULTIBULK_MAX,
} from "../limits.js";

const CR = 13;
const LF = 10;
const INT_MAX = 2147483647;
const EMPTY = Buffer.alloc(0);

export interface ParserLimits {
  /** proto-max-bulk-len: the largest bulk argument accepted. */
  maxBulkBytes: number;
  /** client-query-buffer-limit: bytes of one unfinished command held before the client is closed. */
  queryBufferLimitBytes: number;
}

/**
 * A complete command as ranges of one buffer: argument i is
 * source[offsets[2i], offsets[2i + 1]). The parser reuses this object and
 * its offsets for its next command: read them before returning, and make
 * views (`argsOf`) of what must outlive the call. `source` itself is never
 * rewritten, so views of it stay valid.
 */
export interface RangedCommand {
  readonly kind: "ranged";
  source: Buffer;
  offsets: Int32Array;
  count: number;
}

/**
 * Views of a ranged command's arguments (for code that takes `Buffer[]` or
 * keeps them), from argument `from` on; the slots before it are left empty.
 */
export function argsOf(command: RangedCommand, from = 0): Buffer[] {
  const args = new Array<Buffer>(command.count);
  const { source, offsets } = command;
  for (let i = from; i < command.count; i++) {
    args[i] = source.subarray(offsets[2 * i], offsets[2 * i + 1]);
  }
  return args;
}

export interface ParserOptions {
  /** Emit commands whose arguments lie in one buffer as RangedCommand events. */
  ranges?: boolean;
}

export type ParseEvent =
  | { readonly kind: "command"; readonly args: Buffer[] }
  | RangedCommand
  /** A protocol error: reply `-ERR <text>` and close after the reply, as Redis does. */
  | { readonly kind: "protocolError"; readonly text: string }
  /** The unfinished command grew past the query buffer limit: close without a reply. */
  | { readonly kind: "queryBufferOverflow" };

/**
 * One parser per connection. `isAuthenticated` is consulted, like Redis, to
 * refuse large requests from clients that have not authenticated yet.
 */
export class RespParser {
  private buffer: Buffer = EMPTY;
  private position = 0;
  /** Arguments still expected by the current multibulk command (0 = between commands). */
  private remaining = 0;
  private args: Buffer[] = [];
  private heldBytes = 0;
  /** Length of the bulk argument whose header was read, -1 when expecting a header. */
  private bulkLength = -1;
  /** Destination for a large bulk payload spanning chunks (payload + CRLF). */
  private bigArg: Buffer | null = null;
  private bigArgFilled = 0;
  private failed = false;
  private readonly rangesMode: boolean;
  /** Whether the current command's arguments go to `args` as views (else to `offsets`). */
  private viewArgs = true;
  /** Ranges of the current command's arguments in `buffer`, while not `viewArgs`. */
  private offsets = new Int32Array(64);
  private rangeCount = 0;
  private readonly ranged: RangedCommand = {
    kind: "ranged",
    source: EMPTY,
    offsets: this.offsets,
    count: 0,
  };

  constructor(
    private readonly limits: ParserLimits,
    private readonly isAuthenticated: () => boolean = () => true,
    options: ParserOptions = {},
  ) {
    this.rangesMode = options.ranges === true;
  }

  /** Bytes buffered for the command being parsed (for CLIENT LIST qbuf). */
  get bufferedBytes(): number {
    return this.buffer.length - this.position + this.heldBytes + this.bigArgFilled;
  }

  /**
   * Parses as much as possible, calling `emit` for each complete command in
   * order. After a protocol error or overflow no more events are produced.
   */
  feed(chunk: Buffer, emit: (event: ParseEvent) => void): void {
    if (this.failed) return;
    let input = chunk;
    if (this.bigArg !== null) {
      const big = this.bigArg;
      const take = Math.min(big.length - this.bigArgFilled, input.length);
      input.copy(big, this.bigArgFilled, 0, take);
      this.bigArgFilled += take;
      input = input.subarray(take);
      if (this.bigArgFilled < big.length) {
        this.checkQueryBuffer(emit);
        return;
      }
      this.bigArg = null;
      this.bigArgFilled = 0;
      this.pushArg(big.subarray(0, big.length - 2), emit);
      if (input.length === 0) {
        this.replaceBuffer(EMPTY);
        this.position = 0;
        return;
      }
    }
    if (this.position < this.buffer.length) {
      this.replaceBuffer(Buffer.concat([this.buffer.subarray(this.position), input]));
    } else {
      this.replaceBuffer(input);
    }
    this.position = 0;
    this.parse(emit);
    if (this.position >= this.buffer.length) {
      this.replaceBuffer(EMPTY);
      this.position = 0;
    }
    this.checkQueryBuffer(emit);
  }

  /** Sets `buffer`; arguments recorded as ranges of the old one become views first. */
  private replaceBuffer(next: Buffer): void {
    if (this.rangeCount > 0) this.switchToViews();
    this.buffer = next;
  }

  /** The current command continues as views: its ranges so far become views of `buffer`. */
  private switchToViews(): void {
    if (this.viewArgs) return;
    const args: Buffer[] = [];
    for (let i = 0; i < this.rangeCount; i++) {
      args.push(this.buffer.subarray(this.offsets[2 * i], this.offsets[2 * i + 1]));
    }
    this.args = args;
    this.rangeCount = 0;
    this.viewArgs = true;
  }

  private checkQueryBuffer(emit: (event: ParseEvent) => void): void {
    if (!this.failed && this.bufferedBytes > this.limits.queryBufferLimitBytes) {
      this.fail();
      emit({ kind: "queryBufferOverflow" });
    }
  }

  private fail(): void {
    this.failed = true;
    this.buffer = EMPTY;
    this.position = 0;
    this.args = [];
    this.rangeCount = 0;
    this.bigArg = null;
  }

  private protocolError(text: string, emit: (event: ParseEvent) => void): void {
    this.fail();
    emit({ kind: "protocolError", text: `Protocol error: ${text}` });
  }

  private parse(emit: (event: ParseEvent) => void): void {
    const buffer = this.buffer;
    while (!this.failed && this.position < buffer.length) {
      if (this.remaining === 0) {
        if (buffer[this.position] === 0x2a /* '*' */) {
          if (!this.parseMultibulkCount(emit)) return;
        } else {
          if (!this.parseInline(emit)) return;
          continue;
        }
        if (this.remaining === 0) continue;
      }
      if (!this.parseBulks(emit)) return;
    }
  }

  /** Reads `*N\r\n`. Returns false when more input is needed or on error. */
  private parseMultibulkCount(emit: (event: ParseEvent) => void): boolean {
    const buffer = this.buffer;
    const start = this.position;
    const newline = findCarriageReturn(buffer, start);
    if (newline === -1) {
      if (buffer.length - start > INLINE_MAX_SIZE_BYTES) {
        this.protocolError("too big mbulk count string", emit);
      }
      return false;
    }
    if (newline > buffer.length - 2) return false;
    const count = parseRedisInteger(buffer, start + 1, newline);
    if (count === undefined || count > INT_MAX) {
      this.protocolError("invalid multibulk length", emit);
      return false;
    }
    if (count > UNAUTHENTICATED_MULTIBULK_MAX && !this.isAuthenticated()) {
      this.protocolError("unauthenticated multibulk length", emit);
      return false;
    }
    this.position = newline + 2;
    if (count <= 0) return true;
    this.remaining = count;
    this.viewArgs = !this.rangesMode;
    this.rangeCount = 0;
    if (this.viewArgs) this.args = [];
    this.heldBytes = 0;
    this.bulkLength = -1;
    return true;
  }

  /** Reads bulk arguments of the current command. Returns false when more input is needed. */
  private parseBulks(emit: (event: ParseEvent) => void): boolean {
    const buffer = this.buffer;
    while (this.remaining > 0) {
      if (this.bulkLength === -1) {
        const start = this.position;
        const newline = findCarriageReturn(buffer, start);
        if (newline === -1) {
          if (buffer.length - start > INLINE_MAX_SIZE_BYTES) {
            this.protocolError("too big bulk count string", emit);
          }
          return false;
        }
        if (newline > buffer.length - 2) return false;
        if (buffer[start] !== 0x24 /* '$' */) {
          this.protocolError(`expected '$', got '${String.fromCharCode(buffer[start]!)}'`, emit);
          return false;
        }
        const length = parseRedisInteger(buffer, start + 1, newline);
        if (length === undefined || length < 0 || length > this.limits.maxBulkBytes) {
          this.protocolError("invalid bulk length", emit);
          return false;
        }
        if (length > UNAUTHENTICATED_BULK_MAX_BYTES && !this.isAuthenticated()) {
          this.protocolError("unauthenticated bulk length", emit);
          return false;
        }
        this.position = newline + 2;
        this.bulkLength = length;
      }
      const available = buffer.length - this.position;
      const needed = this.bulkLength + 2;
      if (available < needed) {
        if (this.bulkLength >= BIG_ARG_SIZE_BYTES) {
          this.switchToViews();
          // Copy the payload once into its own buffer; later chunks fill it directly.
          const big = Buffer.allocUnsafe(needed);
          buffer.copy(big, 0, this.position);
          this.bigArg = big;
          this.bigArgFilled = available;
          this.position = buffer.length;
        }
        return false;
      }
      const start = this.position;
      this.position += needed;
      if (this.viewArgs) this.pushArg(buffer.subarray(start, start + this.bulkLength), emit);
      else this.pushRange(start, start + this.bulkLength, emit);
    }
    return true;
  }

  private pushRange(start: number, end: number, emit: (event: ParseEvent) => void): void {
    const at = 2 * this.rangeCount;
    if (at === this.offsets.length) {
      const grown = new Int32Array(2 * this.offsets.length);
      grown.set(this.offsets);
      this.offsets = grown;
      this.ranged.offsets = grown;
    }
    this.offsets[at] = start;
    this.offsets[at + 1] = end;
    this.rangeCount++;
    this.heldBytes += end - start;
    this.bulkLength = -1;
    this.remaining--;
    if (this.remaining === 0) {
      const command = this.ranged;
      command.source = this.buffer;
      command.count = this.rangeCount;
      this.rangeCount = 0;
      this.heldBytes = 0;
      emit(command);
    }
  }

  private pushArg(arg: Buffer, emit: (event: ParseEvent) => void): void {
    this.args.push(arg);
    this.heldBytes += arg.length;
    this.bulkLength = -1;
    this.remaining--;
    if (this.remaining === 0) {
      const args = this.args;
      this.args = [];
      this.heldBytes = 0;
      emit({ kind: "command", args });
    }
  }

  /** Reads one inline command line. Returns false when more input is needed or on error. */
  private parseInline(emit: (event: ParseEvent) => void): boolean {
    const buffer = this.buffer;
    const start = this.position;
    const newline = buffer.indexOf(LF, start);
    if (newline === -1) {
      if (buffer.length - start > INLINE_MAX_SIZE_BYTES) {
        this.protocolError("too big inline request", emit);
      }
      return false;
    }
    let end = newline;
    if (end > start && buffer[end - 1] === CR) end--;
    this.position = newline + 1;
    // Redis splits the line as a C string: it stops at a NUL byte.
    const nul = buffer.subarray(start, end).indexOf(0);
    if (nul !== -1) end = start + nul;
    const args = splitInlineArguments(buffer.subarray(start, end));
    if (args === undefined) {
      this.protocolError("unbalanced quotes in request", emit);
      return false;
    }
    if (args.length > 0) emit({ kind: "command", args });
    return true;
  }
}

/** Header lines are short: scan this many bytes in JavaScript before asking the native indexOf. */
const SHORT_SCAN_BYTES = 32;

/** Index of the first `\r` at or after `start`, or -1; a NUL before it counts as "not found" (strchr). */
function findCarriageReturn(buffer: Buffer, start: number): number {
  // A byte loop beats indexOf (a native call plus a view for the NUL check) on "$3\r\n".
  const shortEnd = Math.min(buffer.length, start + SHORT_SCAN_BYTES);
  for (let i = start; i < shortEnd; i++) {
    const c = buffer[i]!;
    if (c === CR) return i;
    if (c === 0) return -1;
  }
  if (shortEnd === buffer.length) return -1;
  const index = buffer.indexOf(CR, shortEnd);
  if (index === -1) return -1;
  if (buffer.subarray(shortEnd, index).indexOf(0) !== -1) return -1;
  return index;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  if (c >= 0x61) return c - 0x61 + 10;
  return c - 0x41 + 10;
}

/**
 * Redis's sdssplitargs: whitespace-separated arguments, "double quotes" with
 * \xHH, \n, \r, \t, \b, \a escapes, 'single quotes' with \' only; a closing
 * quote must be followed by whitespace or the end. Returns undefined for
 * unbalanced quotes.
 */
export function splitInlineArguments(line: Uint8Array): Buffer[] | undefined {
  const args: Buffer[] = [];
  let p = 0;
  const n = line.length;
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return args;
    let inDouble = false;
    let inSingle = false;
    let done = false;
    const current: number[] = [];
    while (!done) {
      const c = p < n ? line[p]! : -1;
      if (inDouble) {
        if (
          c === 0x5c /* \ */ &&
          p + 3 < n &&
          line[p + 1] === 0x78 &&
          isHexDigit(line[p + 2]!) &&
          isHexDigit(line[p + 3]!)
        ) {
          current.push(hexValue(line[p + 2]!) * 16 + hexValue(line[p + 3]!));
          p += 3;
        } else if (c === 0x5c && p + 1 < n) {
          p++;
          const e = line[p]!;
          const escaped =
            e === 0x6e
              ? 10
              : e === 0x72
                ? 13
                : e === 0x74
                  ? 9
                  : e === 0x62
                    ? 8
                    : e === 0x61
                      ? 7
                      : e;
          current.push(escaped);
        } else if (c === 0x22 /* " */) {
          if (p + 1 < n && !isSpace(line[p + 1]!)) return undefined;
          done = true;
        } else if (c === -1) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (inSingle) {
        if (c === 0x5c && p + 1 < n && line[p + 1] === 0x27) {
          p++;
          current.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < n && !isSpace(line[p + 1]!)) return undefined;
          done = true;
        } else if (c === -1) {
          return undefined;
        } else {
          current.push(c);
        }
      } else if (c === -1 || isSpace(c)) {
        done = true;
      } else if (c === 0x22) {
        inDouble = true;
      } else if (c === 0x27) {
        inSingle = true;
      } else {
        current.push(c);
      }
      if (p < n) p++;
    }
    args.push(Buffer.from(current));
  }
}
