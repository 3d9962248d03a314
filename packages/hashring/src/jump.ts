/**
 * Jump consistent hash (Lamping & Veach, 2014): maps a 64-bit key to a bucket
 * in [0, n) with no ring and no memory, perfectly balanced in expectation, and
 * moving only 1/(n+1) of keys when bucket n is added. Its limits: buckets are
 * numbered, so only the last one can be removed, and there are no weights.
 *
 * The 64-bit key is two xxHash32 values of the key (seeds 0 and
 * JUMP_HIGH_SEED). The 64-bit LCG of the reference code is done on 32-bit
 * halves so no BigInt is needed; `jumpBucketBigInt` is the literal
 * transcription, kept as the tests' reference.
 */
import { JUMP_HIGH_SEED, XXHASH_SEED } from "./constants.js";
import { assertKey, describe, HashRingError, HashRingErrorCode } from "./errors.js";
import { xxhash32 } from "./hash.js";
import { type NodeInput, normalizeNode } from "./node.js";
import type { Placement } from "./placement.js";

// 2862933555777941757, the LCG multiplier of the paper, as two 32-bit halves.
const MULTIPLIER_HIGH = 0x27bb2ee6;
const MULTIPLIER_LOW = 0x87b0b0fd;
const TWO_POW_31 = 2 ** 31;
const TWO_POW_32 = 2 ** 32;
const TWO_POW_16 = 2 ** 16;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers (exact in doubles). */
function multiplyHigh(a: number, b: number): number {
  const aHigh = a >>> 16;
  const aLow = a & 0xffff;
  const bHigh = b >>> 16;
  const bLow = b & 0xffff;
  const low = aLow * bLow;
  const middle = aHigh * bLow + aLow * bHigh;
  const high = aHigh * bHigh;
  const carry = Math.floor((low + (middle % TWO_POW_16) * TWO_POW_16) / TWO_POW_32);
  return (high + Math.floor(middle / TWO_POW_16) + carry) >>> 0;
}

/** Bucket in [0, buckets) for the 64-bit key (high, low): the paper's algorithm. */
export function jumpBucket(keyHigh: number, keyLow: number, buckets: number): number {
  let high = keyHigh >>> 0;
  let low = keyLow >>> 0;
  let bucket = -1;
  let jump = 0;
  while (jump < buckets) {
    bucket = jump;
    // key = key * 2862933555777941757 + 1 (mod 2^64)
    const productHigh =
      (Math.imul(high, MULTIPLIER_LOW) +
        Math.imul(low, MULTIPLIER_HIGH) +
        multiplyHigh(low, MULTIPLIER_LOW)) >>>
      0;
    const productLow = Math.imul(low, MULTIPLIER_LOW) >>> 0;
    low = (productLow + 1) >>> 0;
    high = low === 0 ? (productHigh + 1) >>> 0 : productHigh;
    // j = (b + 1) * (2^31 / ((key >> 33) + 1))
    jump = Math.floor((bucket + 1) * (TWO_POW_31 / ((high >>> 1) + 1)));
  }
  return bucket;
}

/** The reference algorithm, transcribed with BigInt (slow; for tests). */
export function jumpBucketBigInt(key: bigint, buckets: number): number {
  let k = BigInt.asUintN(64, key);
  let b = -1n;
  let j = 0n;
  while (j < BigInt(buckets)) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = BigInt(Math.floor(Number(b + 1n) * (TWO_POW_31 / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}

export class JumpHash implements Placement {
  readonly strategy = "jump" as const;
  #ids: string[] = [];
  #index = new Map<string, number>();

  constructor(nodes: Iterable<NodeInput> = []) {
    for (const node of nodes) this.addNode(node);
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Bucket order: the order nodes were added. */
  nodeIds(): string[] {
    return [...this.#ids];
  }

  /** Appends a node as the next bucket. Weights are not supported (BAD_WEIGHT unless 1). */
  addNode(input: NodeInput): void {
    const node = normalizeNode(input);
    if (node.weight !== 1) {
      throw new HashRingError(
        HashRingErrorCode.BAD_WEIGHT,
        `jump hash has no weights (node ${JSON.stringify(node.id)} has weight ${node.weight})`,
      );
    }
    if (this.#index.has(node.id)) {
      throw new HashRingError(
        HashRingErrorCode.DUPLICATE_NODE,
        `node ${JSON.stringify(node.id)} is already a bucket`,
      );
    }
    this.#index.set(node.id, this.#ids.length);
    this.#ids.push(node.id);
  }

  /** Removes the last bucket; any other node throws JUMP_REMOVE_NOT_LAST. */
  removeNode(id: string): void {
    const index = this.#index.get(id);
    if (index === undefined) {
      throw new HashRingError(
        HashRingErrorCode.UNKNOWN_NODE,
        `node ${describe(id)} is not a bucket`,
      );
    }
    if (index !== this.#ids.length - 1) {
      throw new HashRingError(
        HashRingErrorCode.JUMP_REMOVE_NOT_LAST,
        `jump hash can only remove the last bucket (${JSON.stringify(this.#ids.at(-1))}), not ${JSON.stringify(id)}`,
      );
    }
    this.#ids.pop();
    this.#index.delete(id);
  }

  owner(key: string): string {
    assertKey(key);
    if (this.#ids.length === 0) {
      throw new HashRingError(HashRingErrorCode.EMPTY_RING, "jump hash has no buckets");
    }
    const bucket = jumpBucket(
      xxhash32(key, JUMP_HIGH_SEED),
      xxhash32(key, XXHASH_SEED),
      this.#ids.length,
    );
    return this.#ids[bucket]!;
  }
}
