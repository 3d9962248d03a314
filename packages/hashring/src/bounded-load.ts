/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
 * SODA 2018). Keys arrive one at a time; with m keys placed after this one and
 * n nodes, every node's capacity is ceil((1 + ε) · m / n). A key walks
 * clockwise from its hash, like a plain ring lookup, and lands on the first
 * node whose load is below capacity. Since n · capacity >= m, some node always
 * has room, and the walk visits every node within one turn of the ring.
 *
 * The expected walk is short (O(1/ε²) nodes in the paper's analysis), and the
 * assignment stays consistent: a key lands where the plain ring would put it
 * unless that node is full. The price is state: the assignment depends on
 * arrival order, so it is kept here (key -> node, load per node).
 *
 * Releasing a key never moves other keys. The capacity bound therefore holds
 * at every moment of an insert-only sequence; after releases, a node may hold
 * more than the (now lower) capacity until `rebalance()` re-places every key.
 */
import { DEFAULT_EPSILON } from "./constants.js";
import { assertKey, describe, HashRingError, HashRingErrorCode } from "./errors.js";
import { type HashRing, lowerBound, type RingLayout } from "./ring.js";

export interface BoundedLoadOptions {
  /** Allowed overload over the average, > 0 (default 0.25: capacity ceil(1.25 · average)). */
  readonly epsilon?: number;
}

/** Keys a node may hold when `keys` keys are placed on `nodes` nodes. */
export function boundedCapacity(keys: number, nodes: number, epsilon: number): number {
  return Math.ceil(((1 + epsilon) * keys) / nodes);
}

export function assertEpsilon(epsilon: unknown): asserts epsilon is number {
  if (typeof epsilon !== "number" || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new HashRingError(
      HashRingErrorCode.BAD_OPTION,
      `epsilon must be a finite number > 0 (got ${describe(epsilon)})`,
    );
  }
}

export class BoundedLoadBalancer {
  readonly epsilon: number;
  readonly #ring: HashRing;
  readonly #layout: RingLayout;
  /** Nodes that hold points: only they can receive keys. */
  readonly #activeNodes: number;
  readonly #loads: Uint32Array;
  readonly #assigned = new Map<string, number>();
  #total = 0;

  /** Snapshots `ring` (later changes to it do not affect this balancer). */
  constructor(ring: HashRing, options: BoundedLoadOptions = {}) {
    const epsilon = options.epsilon ?? DEFAULT_EPSILON;
    assertEpsilon(epsilon);
    this.epsilon = epsilon;
    this.#ring = ring.clone();
    this.#layout = this.#ring.layout();
    if (this.#layout.points.length === 0) {
      throw new HashRingError(HashRingErrorCode.EMPTY_RING, "bounded-load assignment needs nodes");
    }
    this.#activeNodes = new Set(this.#layout.owners).size;
    this.#loads = new Uint32Array(this.#layout.nodes.length);
  }

  /** Keys currently assigned. */
  get keyCount(): number {
    return this.#total;
  }

  /** Capacity that applies to the next new key. */
  get capacity(): number {
    return boundedCapacity(this.#total + 1, this.#activeNodes, this.epsilon);
  }

  /** Assigns `key` (or returns its existing node: assignment is idempotent). */
  assign(key: string): string {
    assertKey(key);
    const existing = this.#assigned.get(key);
    if (existing !== undefined) return this.#layout.nodes[existing]!.id;
    const node = this.placeHash(this.#ring.hashOf(key));
    this.#assigned.set(key, node);
    return this.#layout.nodes[node]!.id;
  }

  /** Releases a key; returns false when it was not assigned. Other keys stay where they are. */
  release(key: string): boolean {
    assertKey(key);
    const node = this.#assigned.get(key);
    if (node === undefined) return false;
    this.#assigned.delete(key);
    this.#loads[node]!--;
    this.#total--;
    return true;
  }

  /** The node holding `key`, if assigned. */
  ownerOf(key: string): string | undefined {
    const node = this.#assigned.get(key);
    return node === undefined ? undefined : this.#layout.nodes[node]!.id;
  }

  /** Keys per node id (every node, zeros included). */
  loads(): Map<string, number> {
    const out = new Map<string, number>();
    this.#layout.nodes.forEach((node, index) => {
      out.set(node.id, this.#loads[index]!);
    });
    return out;
  }

  /**
   * Re-places every assigned key from scratch, in ascending key-hash order
   * (ties by key), restoring the capacity bound after releases. Returns the
   * number of keys that changed node.
   */
  rebalance(): number {
    const keys = [...this.#assigned.entries()].map(([key, node]) => ({
      key,
      node,
      hash: this.#ring.hashOf(key),
    }));
    keys.sort((x, y) => x.hash - y.hash || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    this.#loads.fill(0);
    this.#total = 0;
    let moved = 0;
    for (const entry of keys) {
      const node = this.placeHash(entry.hash);
      if (node !== entry.node) moved++;
      this.#assigned.set(entry.key, node);
    }
    return moved;
  }

  /**
   * Places one key by its ring position and returns the node index (into
   * `layout().nodes` of the snapshot). For bulk simulation without a key map.
   */
  placeHash(hash: number): number {
    const { points, owners } = this.#layout;
    const capacity = boundedCapacity(this.#total + 1, this.#activeNodes, this.epsilon);
    let position = lowerBound(points, hash);
    // Bounded: n · capacity > current total, so a node with room exists and
    // one full turn of the ring visits every node that holds points.
    for (let step = 0; step < points.length; step++) {
      const node = owners[position]!;
      if (this.#loads[node]! < capacity) {
        this.#loads[node]!++;
        this.#total++;
        return node;
      }
      position = position + 1 === points.length ? 0 : position + 1;
    }
    throw new Error("bounded-load invariant broken: no node below capacity after a full turn");
  }

  /** Node ids in the index order placeHash returns. */
  nodeIds(): string[] {
    return this.#layout.nodes.map((node) => node.id);
  }
}
