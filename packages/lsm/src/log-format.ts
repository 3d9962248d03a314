/**
 * Commit log record and write batch encodings. PART OF THE FILE FORMAT.
 *
 * A log file is a sequence of records, each:
 *
 *   crc32c (4, LE, masked, over type + payload) | length (4, LE, payload bytes) | type (1) | payload
 *
 * Type 1 (LOG_RECORD_WRITE_BATCH) is the only type; its payload is one write batch:
 *
 *   first sequence (6, LE u48) | reserved (2, zero) | count (4, LE)
 *   then `count` operations:  op type (1: 0 delete, 1 put) | key length (varint32) | key
 *                             | (puts only) value length (varint32) | value
 *
 * Operation i of the batch gets sequence `first + i`. A batch is one record, so
 * recovery replays it whole or not at all. Group commit concatenates the
 * records of several batches into one write(2) (and one fsync).
 */

import { decoded, getVarint32, putBytes, putVarint32, varintLength } from "./coding.js";
import {
  LOG_HEADER_BYTES,
  LOG_RECORD_WRITE_BATCH,
  TYPE_DELETION,
  TYPE_VALUE,
} from "./constants.js";
import { maskedCrc32c } from "./crc32c.js";
import type { Memtable } from "./memtable.js";
import type { WriteBatch } from "./write-batch.js";

/** The empty prefix of a put without one. */
const NO_BYTES = new Uint8Array(0);

/** Batch payload header: first sequence (6) + reserved (2) + count (4). Part of the file format. */
export const BATCH_HEADER_BYTES = 12;

/** Bytes one operation takes in a batch payload (a put's value is `valueLength` bytes). */
export function operationSize(type: number, keyLength: number, valueLength: number): number {
  let size = 1 + varintLength(keyLength) + keyLength;
  if (type === TYPE_VALUE) size += varintLength(valueLength) + valueLength;
  return size;
}

/** Bytes one batch takes as a log record. */
export function batchRecordSize(batch: WriteBatch): number {
  let size = LOG_HEADER_BYTES + BATCH_HEADER_BYTES;
  const { types, keys, prefixes, values } = batch;
  for (let i = 0; i < types.length; i++) {
    size += operationSize(types[i]!, keys[i]!.length, prefixes[i]!.length + values[i]!.length);
  }
  return size;
}

/** Bytes a one-operation batch takes as a log record (put/delete without a WriteBatch). */
export function singleRecordSize(type: number, key: Buffer, value: Buffer): number {
  return LOG_HEADER_BYTES + BATCH_HEADER_BYTES + operationSize(type, key.length, value.length);
}

/** Bytes a one-put record takes whose value is `valueLength` bytes. */
export function singlePutRecordSize(keyLength: number, valueLength: number): number {
  return (
    LOG_HEADER_BYTES +
    BATCH_HEADER_BYTES +
    1 +
    varintLength(keyLength) +
    keyLength +
    varintLength(valueLength) +
    valueLength
  );
}

/** Writes the batch payload header at `p`; returns the offset after it. */
function putBatchHeader(out: Buffer, p: number, firstSeq: number, count: number): number {
  out.writeUIntLE(firstSeq, p, 6);
  out[p + 6] = 0;
  out[p + 7] = 0;
  out.writeUInt32LE(count, p + 8);
  return p + BATCH_HEADER_BYTES;
}

/**
 * Writes one operation at `p` (a put's value is `prefix` followed by
 * `value`); returns the offset after it.
 */
function putOperation(
  out: Buffer,
  p: number,
  type: number,
  key: Uint8Array,
  prefix: Uint8Array,
  value: Uint8Array,
): number {
  out[p++] = type;
  p = putVarint32(out, p, key.length);
  p = putBytes(out, p, key);
  if (type === TYPE_VALUE) {
    p = putVarint32(out, p, prefix.length + value.length);
    p = putBytes(out, p, prefix);
    p = putBytes(out, p, value);
  }
  return p;
}

/**
 * Fills in the header of the record at `offset` whose payload ends at `end`:
 * length, type, then the checksum over type and payload. Returns `end`.
 */
function sealRecord(out: Buffer, offset: number, end: number): number {
  out.writeUInt32LE(end - offset - LOG_HEADER_BYTES, offset + 4);
  out[offset + 8] = LOG_RECORD_WRITE_BATCH;
  out.writeUInt32LE(maskedCrc32c(out.subarray(offset + 8, end)), offset);
  return end;
}

/** Encodes a one-operation batch; the same record format as encodeBatchRecord with count 1. */
export function encodeSingleRecord(
  out: Buffer,
  offset: number,
  type: number,
  key: Buffer,
  value: Buffer,
  seq: number,
): number {
  const p = putBatchHeader(out, offset + LOG_HEADER_BYTES, seq, 1);
  return sealRecord(out, offset, putOperation(out, p, type, key, NO_BYTES, value));
}

/**
 * Encodes a one-put batch whose value is `prefix` followed by `value` (the
 * same bytes encodeSingleRecord writes for the concatenation). Returns the
 * offset after the record.
 */
export function encodeSinglePutRecord(
  out: Buffer,
  offset: number,
  key: Uint8Array,
  prefix: Uint8Array,
  value: Uint8Array,
  seq: number,
): number {
  const p = putBatchHeader(out, offset + LOG_HEADER_BYTES, seq, 1);
  return sealRecord(out, offset, putOperation(out, p, TYPE_VALUE, key, prefix, value));
}

/**
 * Encodes `batch` as one log record at `offset` of `out`; returns the offset
 * after it. With `memtable`, also inserts each operation into it as it is
 * written (keys and values as ranges of `out`, sequence `firstSeq + i`): the
 * buffered write path, which would otherwise parse the record back.
 */
export function encodeBatchRecord(
  out: Buffer,
  offset: number,
  batch: WriteBatch,
  firstSeq: number,
  memtable?: Memtable,
): number {
  let p = putBatchHeader(out, offset + LOG_HEADER_BYTES, firstSeq, batch.count);
  const { types, keys, prefixes, values } = batch;
  for (let i = 0; i < types.length; i++) {
    const type = types[i]!;
    const key = keys[i]!;
    const prefix = prefixes[i]!;
    const value = values[i]!;
    const start = p;
    p = putOperation(out, p, type, key, prefix, value);
    if (memtable !== undefined) {
      const keyStart = start + 1 + varintLength(key.length);
      const keyEnd = keyStart + key.length;
      const valueStart = type === TYPE_VALUE ? p - prefix.length - value.length : keyEnd;
      memtable.addRange(out, keyStart, keyEnd, firstSeq + i, type, out, valueStart, p);
    }
  }
  return sealRecord(out, offset, p);
}

/**
 * Encodes a batch of puts given as ranges of `source` (see
 * Database.putPairsBuffered): argument i is source[ranges[2i], ranges[2i + 1]),
 * keys are arguments first, first + 2, … < end, each followed by its value,
 * and each stored value is `prefixBytes` bytes from `writePrefix` then the
 * value's. Inserts each put into `memtable` as it is written, like
 * encodeBatchRecord. Returns the offset after the record.
 */
export function encodePairsRecord(
  out: Buffer,
  offset: number,
  source: Uint8Array,
  ranges: Int32Array,
  first: number,
  end: number,
  prefixBytes: number,
  writePrefix: (out: Buffer, offset: number) => void,
  firstSeq: number,
  memtable: Memtable,
): number {
  let p = putBatchHeader(out, offset + LOG_HEADER_BYTES, firstSeq, (end - first) >> 1);
  for (let i = first, seq = firstSeq; i < end; i += 2, seq++) {
    const keyStart = ranges[2 * i]!;
    const keyEnd = ranges[2 * i + 1]!;
    const valueStart = ranges[2 * i + 2]!;
    const valueEnd = ranges[2 * i + 3]!;
    out[p++] = TYPE_VALUE;
    p = putVarint32(out, p, keyEnd - keyStart);
    const storedKey = p;
    p = putBytes(out, p, source, keyStart, keyEnd);
    p = putVarint32(out, p, prefixBytes + valueEnd - valueStart);
    const storedValue = p;
    writePrefix(out, p);
    p = putBytes(out, p + prefixBytes, source, valueStart, valueEnd);
    const storedKeyEnd = storedKey + keyEnd - keyStart;
    memtable.addRange(out, storedKey, storedKeyEnd, seq, TYPE_VALUE, out, storedValue, p);
  }
  return sealRecord(out, offset, p);
}

/**
 * Inserts the operations of one batch payload into `memtable`. Keys and values
 * are views into `payload` (no copy): the memtable keeps the buffer alive.
 * Returns the last sequence used, or -1 if the payload is malformed.
 */
export function applyBatchPayload(payload: Buffer, memtable: Memtable): number {
  if (payload.length < BATCH_HEADER_BYTES) return -1;
  const firstSeq = payload.readUIntLE(0, 6);
  const count = payload.readUInt32LE(8);
  const end = payload.length;
  let p = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (p >= end) return -1;
    const type = payload[p++]!;
    if (type !== TYPE_VALUE && type !== TYPE_DELETION) return -1;
    p = getVarint32(payload, p, end);
    if (p < 0 || p + decoded.value > end) return -1;
    const keyStart = p;
    const keyEnd = p + decoded.value;
    p = keyEnd;
    let valueStart = p;
    let valueEnd = p;
    if (type === TYPE_VALUE) {
      p = getVarint32(payload, p, end);
      if (p < 0 || p + decoded.value > end) return -1;
      valueStart = p;
      valueEnd = p + decoded.value;
      p = valueEnd;
    }
    memtable.addRange(payload, keyStart, keyEnd, firstSeq + i, type, payload, valueStart, valueEnd);
  }
  if (p !== end) return -1;
  return count === 0 ? firstSeq - 1 : firstSeq + count - 1;
}

/** Checks a payload's structure without applying it (recovery validates before inserting). */
export function validateBatchPayload(payload: Buffer): boolean {
  if (payload.length < BATCH_HEADER_BYTES) return false;
  const count = payload.readUInt32LE(8);
  const end = payload.length;
  let p = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (p >= end) return false;
    const type = payload[p++]!;
    if (type !== TYPE_VALUE && type !== TYPE_DELETION) return false;
    p = getVarint32(payload, p, end);
    if (p < 0 || p + decoded.value > end) return false;
    p += decoded.value;
    if (type === TYPE_VALUE) {
      p = getVarint32(payload, p, end);
      if (p < 0 || p + decoded.value > end) return false;
      p += decoded.value;
    }
  }
  return p === end;
}
