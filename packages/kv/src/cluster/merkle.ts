/**
 * Merkle tree of one partition, kept up to date on every write (never rebuilt
 * from a scan).
 *
 * Leaves are MERKLE_BUCKETS_PER_PARTITION buckets; a key's bucket comes from its
 * hash (placement.locateKey). A leaf is the XOR of the 64-bit hashes of
 * (key, object digest) of the keys in it, so a write updates a leaf in O(1):
 * leaf ^= hash(key, old digest) ^ hash(key, new digest). Inner nodes (one per
 * MERKLE_FANOUT leaves) and the root are SHA-1 over their children, recomputed
 * lazily for the paths a write dirtied.
 *
 *   root = sha1(inner[0] … inner[15]);  inner[i] = sha1(leaf[16i] … leaf[16i+15])
 *
 * Two replicas holding the same keys with equal objects have equal roots; an
 * exchange compares the 16 inner hashes, then the leaves under differing inner
 * nodes, and syncs only the differing buckets.
 */
import { createHash } from "node:crypto";
import { MERKLE_BUCKETS_PER_PARTITION, MERKLE_FANOUT } from "./constants.js";

/** 64-bit hash of a key and its object digest, as two unsigned 32-bit halves. */
export interface KeyHash {
  readonly high: number;
  readonly low: number;
}

export function keyHash(key: string, digest: string): KeyHash {
  const bytes = createHash("sha1").update(key).update("\u0000").update(digest).digest();
  return { high: bytes.readUInt32BE(0), low: bytes.readUInt32BE(4) };
}

const INNER_COUNT = MERKLE_BUCKETS_PER_PARTITION / MERKLE_FANOUT;

export class MerkleTree {
  private readonly leaves = new Uint32Array(MERKLE_BUCKETS_PER_PARTITION * 2);
  private readonly inner: (string | null)[] = new Array<string | null>(INNER_COUNT).fill(null);
  private rootHash: string | null = null;
  private keyCount = 0;

  get size(): number {
    return this.keyCount;
  }

  /** Account for one key changing: `before`/`after` null when absent. */
  update(bucket: number, before: KeyHash | null, after: KeyHash | null): void {
    if (before === null && after === null) return;
    const at = bucket * 2;
    if (before !== null) {
      this.leaves[at] = (this.leaves[at]! ^ before.high) >>> 0;
      this.leaves[at + 1] = (this.leaves[at + 1]! ^ before.low) >>> 0;
      this.keyCount -= 1;
    }
    if (after !== null) {
      this.leaves[at] = (this.leaves[at]! ^ after.high) >>> 0;
      this.leaves[at + 1] = (this.leaves[at + 1]! ^ after.low) >>> 0;
      this.keyCount += 1;
    }
    this.inner[Math.floor(bucket / MERKLE_FANOUT)] = null;
    this.rootHash = null;
  }

  leafHash(bucket: number): string {
    const high = this.leaves[bucket * 2]!;
    const low = this.leaves[bucket * 2 + 1]!;
    return high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
  }

  innerHash(index: number): string {
    let cached = this.inner[index];
    if (cached === null || cached === undefined) {
      const h = createHash("sha1");
      for (let b = index * MERKLE_FANOUT; b < (index + 1) * MERKLE_FANOUT; b += 1) {
        h.update(this.leafHash(b));
      }
      cached = h.digest("hex");
      this.inner[index] = cached;
    }
    return cached;
  }

  innerHashes(): string[] {
    return Array.from({ length: INNER_COUNT }, (_, i) => this.innerHash(i));
  }

  /** The leaves under one inner node. */
  leafHashesUnder(index: number): string[] {
    return Array.from({ length: MERKLE_FANOUT }, (_, i) =>
      this.leafHash(index * MERKLE_FANOUT + i),
    );
  }

  root(): string {
    if (this.rootHash === null) {
      const h = createHash("sha1");
      for (let i = 0; i < INNER_COUNT; i += 1) h.update(this.innerHash(i));
      this.rootHash = h.digest("hex");
    }
    return this.rootHash;
  }
}

/** Inner indexes whose hashes differ between two inner-hash lists. */
export function differingInner(ours: readonly string[], theirs: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < INNER_COUNT; i += 1) if (ours[i] !== theirs[i]) out.push(i);
  return out;
}

export const MERKLE_INNER_COUNT = INNER_COUNT;
