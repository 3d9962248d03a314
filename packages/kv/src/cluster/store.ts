/**
 * The replica's data: key → KeyObject, with the indexes the cluster core needs
 * kept up to date on every change — the key's digest, partition and bucket
 * membership, the partition's Merkle tree (updated incrementally), and the set
 * of deleted (tombstone-only) keys the reaper scans.
 *
 * Memory-resident: the node's engine (lsm or memory) is the durable copy, fed by
 * the `persist` outputs and read back once at start with `restore`.
 */
import { type KeyHash, keyHash, MerkleTree } from "./merkle.js";
import type { Output } from "./messages.js";
import {
  type ConflictMode,
  digestOfEncoding,
  EMPTY_OBJECT,
  isDeleted,
  type KeyObject,
  mergeObjects,
  objectDigest,
} from "./object.js";
import { locateKey } from "./placement.js";

export class ReplicaStore {
  private readonly objects = new Map<string, KeyObject>();
  private readonly digests = new Map<string, string>();
  private readonly hashes = new Map<string, KeyHash>();
  private readonly partitionKeys = new Map<number, Set<string>>();
  private readonly bucketKeys = new Map<string, Set<string>>();
  private readonly trees = new Map<number, MerkleTree>();
  private readonly deleted = new Set<string>();

  constructor(private readonly mode: ConflictMode) {}

  get size(): number {
    return this.objects.size;
  }

  get(key: string): KeyObject | undefined {
    return this.objects.get(key);
  }

  digest(key: string): string | undefined {
    return this.digests.get(key);
  }

  /**
   * Load a stored object at start (no persist output). `encoded` is the stored
   * encodeObject(object) text when the caller has it: the digest is taken from
   * it instead of encoding the object again (a third of a restore's time).
   */
  restore(key: string, object: KeyObject, encoded?: string): void {
    this.set(key, object, encoded === undefined ? objectDigest(object) : digestOfEncoding(encoded));
  }

  /** Replace the key's object (a local write, already merged). */
  put(key: string, object: KeyObject, out: Output[]): void {
    this.set(key, object);
    out.push({ kind: "persist", key, object });
  }

  /** Merge an incoming object; returns true when the stored object changed. */
  merge(key: string, incoming: KeyObject, out: Output[]): boolean {
    const current = this.objects.get(key);
    const merged = mergeObjects(current ?? EMPTY_OBJECT, incoming, this.mode);
    const digest = objectDigest(merged);
    if (digest === this.digests.get(key)) return false;
    this.set(key, merged, digest);
    out.push({ kind: "persist", key, object: merged });
    return true;
  }

  remove(key: string, out: Output[]): void {
    if (!this.objects.has(key)) return;
    const { partition, bucket } = locateKey(key);
    this.tree(partition).update(bucket, this.hashes.get(key) ?? null, null);
    this.objects.delete(key);
    this.digests.delete(key);
    this.hashes.delete(key);
    this.deleted.delete(key);
    this.partitionKeys.get(partition)?.delete(key);
    this.bucketKeys.get(`${partition}/${bucket}`)?.delete(key);
    out.push({ kind: "persist", key, object: null });
  }

  tree(partition: number): MerkleTree {
    let tree = this.trees.get(partition);
    if (tree === undefined) {
      tree = new MerkleTree();
      this.trees.set(partition, tree);
    }
    return tree;
  }

  keyCountInPartition(partition: number): number {
    return this.partitionKeys.get(partition)?.size ?? 0;
  }

  keysInPartition(partition: number): string[] {
    return [...(this.partitionKeys.get(partition) ?? [])].sort();
  }

  keysInBucket(partition: number, bucket: number): string[] {
    return [...(this.bucketKeys.get(`${partition}/${bucket}`) ?? [])].sort();
  }

  /** Partitions holding at least one key. */
  partitionsHeld(): number[] {
    const out: number[] = [];
    for (const [partition, keys] of this.partitionKeys) if (keys.size > 0) out.push(partition);
    return out.sort((a, b) => a - b);
  }

  deletedKeys(): string[] {
    return [...this.deleted];
  }

  keys(): IterableIterator<string> {
    return this.objects.keys();
  }

  private set(key: string, object: KeyObject, digest: string = objectDigest(object)): void {
    const { partition, bucket } = locateKey(key);
    const hash = keyHash(key, digest);
    this.tree(partition).update(bucket, this.hashes.get(key) ?? null, hash);
    this.objects.set(key, object);
    this.digests.set(key, digest);
    this.hashes.set(key, hash);
    if (isDeleted(object)) this.deleted.add(key);
    else this.deleted.delete(key);
    let inPartition = this.partitionKeys.get(partition);
    if (inPartition === undefined) {
      inPartition = new Set();
      this.partitionKeys.set(partition, inPartition);
    }
    inPartition.add(key);
    const bucketId = `${partition}/${bucket}`;
    let inBucket = this.bucketKeys.get(bucketId);
    if (inBucket === undefined) {
      inBucket = new Set();
      this.bucketKeys.set(bucketId, inBucket);
    }
    inBucket.add(key);
  }
}
