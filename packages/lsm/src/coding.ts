/** Varint (LEB128, 7 bits per byte) helpers shared by the block and batch encoders. */

export function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Writes `value` (< 2^32) as a varint at `offset`, returns the offset after it. */
export function putVarint32(buffer: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    buffer[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[offset++] = value;
  return offset;
}

/**
 * Decoder state shared to avoid allocating a result object per varint: after
 * `getVarint32`, `decoded.value` holds the number and the return value is the
 * offset after it (or -1 when the buffer ends inside the varint).
 */
export const decoded = { value: 0 };

export function getVarint32(buffer: Uint8Array, offset: number, limit: number): number {
  let result = 0;
  let shift = 0;
  while (offset < limit && shift <= 28) {
    const byte = buffer[offset++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      decoded.value = result;
      return offset;
    }
    shift += 7;
  }
  return -1;
}

/** Wraps a Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Copies up to this many bytes in a JS loop: a native copy call costs more than the bytes. */
const SHORT_COPY_BYTES = 32;

/** Copies `source[start, end)` into `out` at `offset`; returns the offset after it. */
export function putBytes(
  out: Uint8Array,
  offset: number,
  source: Uint8Array,
  start = 0,
  end = source.length,
): number {
  const length = end - start;
  if (length <= SHORT_COPY_BYTES) {
    for (let i = 0; i < length; i++) out[offset + i] = source[start + i]!;
  } else {
    out.set(start === 0 && end === source.length ? source : source.subarray(start, end), offset);
  }
  return offset + length;
}
