/**
 * A WriteBatch collects puts and deletes applied atomically by `Database.write`:
 * the whole batch is one commit log record, so recovery replays all of it or
 * none of it. The batch keeps references to the caller's byte arrays until
 * `write` encodes them; do not mutate them in between.
 */

import { asBuffer } from "./coding.js";
import {
  MAX_BATCH_SIZE_BYTES,
  MAX_KEY_SIZE_BYTES,
  MAX_VALUE_SIZE_BYTES,
  TYPE_DELETION,
  TYPE_VALUE,
} from "./constants.js";
import { LsmError, LsmErrorCode } from "./errors.js";

export class WriteBatch {
  /** @internal */ readonly types: number[] = [];
  /** @internal */ readonly keys: Buffer[] = [];
  /** @internal */ readonly values: Buffer[] = [];
  /** @internal Bytes stored in front of each value (EMPTY for most puts). */
  readonly prefixes: Buffer[] = [];
  /** @internal Sum of key and value lengths, checked against MAX_BATCH_SIZE_BYTES. */
  sizeBytes = 0;

  put(key: Uint8Array, value: Uint8Array): this {
    const k = checkKey(key);
    const v = checkValue(value);
    this.add(TYPE_VALUE, k, EMPTY, v);
    return this;
  }

  /**
   * Puts `prefix` followed by `value` as the key's value, without the caller
   * concatenating them (a header in front of a payload): the bytes stored are
   * exactly those of `put(key, concat(prefix, value))`.
   */
  putPrefixed(key: Uint8Array, prefix: Uint8Array, value: Uint8Array): this {
    const k = checkKey(key);
    const p = checkValue(prefix);
    const v = checkValue(value);
    checkValueLength(p.length + v.length);
    this.add(TYPE_VALUE, k, p, v);
    return this;
  }

  delete(key: Uint8Array): this {
    this.add(TYPE_DELETION, checkKey(key), EMPTY, EMPTY);
    return this;
  }

  clear(): this {
    this.types.length = 0;
    this.keys.length = 0;
    this.values.length = 0;
    this.prefixes.length = 0;
    this.sizeBytes = 0;
    return this;
  }

  get count(): number {
    return this.types.length;
  }

  private add(type: number, key: Buffer, prefix: Buffer, value: Buffer): void {
    const size = this.sizeBytes + key.length + prefix.length + value.length;
    checkBatchSize(size);
    this.sizeBytes = size;
    this.types.push(type);
    this.keys.push(key);
    this.prefixes.push(prefix);
    this.values.push(value);
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

export function checkKey(key: Uint8Array): Buffer {
  if (!(key instanceof Uint8Array)) {
    throw new LsmError(LsmErrorCode.INVALID_ARGUMENT, "key must be a Uint8Array");
  }
  checkKeyLength(key.length);
  return asBuffer(key);
}

/** Refuses a key longer than MAX_KEY_SIZE_BYTES (the empty key is a key, as in LevelDB and Redis). */
export function checkKeyLength(length: number): void {
  if (length > MAX_KEY_SIZE_BYTES) {
    throw new LsmError(
      LsmErrorCode.INVALID_ARGUMENT,
      `key of ${length} bytes is larger than ${MAX_KEY_SIZE_BYTES} (MAX_KEY_SIZE_BYTES)`,
    );
  }
}

export function checkValue(value: Uint8Array): Buffer {
  if (!(value instanceof Uint8Array)) {
    throw new LsmError(LsmErrorCode.INVALID_ARGUMENT, "value must be a Uint8Array");
  }
  checkValueLength(value.length);
  return asBuffer(value);
}

/** Refuses a batch whose keys and values add up to more than MAX_BATCH_SIZE_BYTES. */
export function checkBatchSize(sizeBytes: number): void {
  if (sizeBytes > MAX_BATCH_SIZE_BYTES) {
    throw new LsmError(
      LsmErrorCode.INVALID_ARGUMENT,
      `write batch larger than ${MAX_BATCH_SIZE_BYTES} bytes (MAX_BATCH_SIZE_BYTES)`,
    );
  }
}

/** Refuses a value (or prefix + value) longer than MAX_VALUE_SIZE_BYTES. */
export function checkValueLength(length: number): void {
  if (length > MAX_VALUE_SIZE_BYTES) {
    throw new LsmError(
      LsmErrorCode.INVALID_ARGUMENT,
      `value of ${length} bytes is larger than ${MAX_VALUE_SIZE_BYTES} (MAX_VALUE_SIZE_BYTES)`,
    );
  }
}
