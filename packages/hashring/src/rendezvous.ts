/**
 * Rendezvous (highest random weight) hashing, Thaler & Ravishankar 1996:
 * every node scores the key and the highest score wins. No ring and perfect
 * minimal disruption (removing a node moves only its keys), at O(n) per
 * lookup. Weighted with the logarithmic method (Schindelhauer & Schomaker):
 * score = -weight / ln(u), u uniform in (0, 1), so a node's share of keys is
 * proportional to its weight.
 *
 * u comes from the key's xxHash32 mixed with the node's own xxHash32 by the
 * MurmurHash3 finalizer: one string hash per lookup instead of one per node.
 */
import { assertKey, describe, HashRingError, HashRingErrorCode } from "./errors.js";
import { xxhash32 } from "./hash.js";
import { assertCount, type NodeInput, normalizeNode, type RingNode } from "./node.js";
import type { Placement } from "./placement.js";

const TWO_POW_32 = 2 ** 32;

/** MurmurHash3's 32-bit finalizer: a bijection with full avalanche. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Score of a node (seed, weight) for a key hash; larger wins. */
export function rendezvousScore(keyHash: number, nodeSeed: number, weight: number): number {
  const uniform = (mix32(keyHash ^ nodeSeed) + 0.5) / TWO_POW_32;
  return -weight / Math.log(uniform);
}

interface Candidate extends RingNode {
  readonly seed: number;
}

export class RendezvousHash implements Placement {
  readonly strategy = "rendezvous" as const;
  /** Sorted by id, so equal scores go to the smaller id in every process. */
  #nodes: Candidate[] = [];

  constructor(nodes: Iterable<NodeInput> = []) {
    for (const node of nodes) this.addNode(node);
  }

  get size(): number {
    return this.#nodes.length;
  }

  nodeIds(): string[] {
    return this.#nodes.map((node) => node.id);
  }

  addNode(input: NodeInput): void {
    const node = normalizeNode(input);
    if (this.#nodes.some((existing) => existing.id === node.id)) {
      throw new HashRingError(
        HashRingErrorCode.DUPLICATE_NODE,
        `node ${JSON.stringify(node.id)} is already present`,
      );
    }
    this.#nodes.push({ ...node, seed: xxhash32(node.id) });
    this.#nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  removeNode(id: string): void {
    const index = this.#nodes.findIndex((node) => node.id === id);
    if (index < 0) {
      throw new HashRingError(
        HashRingErrorCode.UNKNOWN_NODE,
        `node ${describe(id)} is not present`,
      );
    }
    this.#nodes.splice(index, 1);
  }

  owner(key: string): string {
    assertKey(key);
    const nodes = this.#nodes;
    if (nodes.length === 0) {
      throw new HashRingError(HashRingErrorCode.EMPTY_RING, "rendezvous hashing has no nodes");
    }
    const keyHash = xxhash32(key);
    let best = nodes[0]!;
    let bestScore = rendezvousScore(keyHash, best.seed, best.weight);
    for (let i = 1; i < nodes.length; i++) {
      const node = nodes[i]!;
      const score = rendezvousScore(keyHash, node.seed, node.weight);
      if (score > bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best.id;
  }

  /** The n highest-scoring nodes, best first (n > size returns all nodes). */
  preferenceList(key: string, n: number): string[] {
    assertKey(key);
    assertCount("n", n);
    if (this.#nodes.length === 0) {
      throw new HashRingError(HashRingErrorCode.EMPTY_RING, "rendezvous hashing has no nodes");
    }
    const keyHash = xxhash32(key);
    return this.#nodes
      .map((node) => ({ id: node.id, score: rendezvousScore(keyHash, node.seed, node.weight) }))
      .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
      .slice(0, n)
      .map((entry) => entry.id);
  }
}
