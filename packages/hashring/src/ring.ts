/**
 * A consistent-hash ring with virtual nodes.
 *
 * Every node places points on a circle of 2^32 positions; a key belongs to
 * the node owning the first point at or after the key's hash, wrapping past
 * the top to the first point. Points live in a sorted Uint32Array with a
 * parallel array of owner indexes, so a lookup is one hash and one binary
 * search: O(log P) for P points, with no allocation.
 *
 * Two layouts:
 * - "xxhash" (default): a node of weight w gets round(w · vnodes) points
 *   (at least 1), point i at xxh32(`${id}#${i}`). A node's points depend only
 *   on its own id and weight, so adding a node moves keys only onto it, and
 *   ties between equal points go to the smaller id: the ring is the same
 *   whatever order the nodes were added in.
 * - "ketama": libketama's layout, compatible with the `hashring` npm package
 *   (and so with memcached clients that use ketama). Server s gets
 *   floor(w_s / Σw · vnodes/4 · count) MD5 digests of `${id}-${i}`, each read
 *   as 4 little-endian 32-bit points; keys hash to the first 4 MD5 bytes,
 *   little-endian. Ties go to the server listed first, as in `hashring`.
 *   Because point counts depend on the total weight, changing one weighted
 *   server can move a few keys between the others: that is ketama's design.
 */
import {
  DEFAULT_VNODES,
  KETAMA_POINTS_PER_HASH,
  MAX_POINT,
  MAX_RING_POINTS,
  MAX_VNODES_PER_NODE,
  POINT_ORDINAL_BITS,
  VNODE_SEPARATOR,
} from "./constants.js";
import { assertKey, describe, HashRingError, HashRingErrorCode } from "./errors.js";
import { ketamaKeyHash, md5Words, xxhash32 } from "./hash.js";
import { assertCount, type NodeInput, normalizeNode, type RingNode } from "./node.js";
import type { Placement } from "./placement.js";

export type RingMode = "xxhash" | "ketama";

export interface HashRingOptions {
  /** Point layout and hash (default "xxhash"). */
  readonly mode?: RingMode;
  /**
   * Points per node at weight 1 (default 160). In ketama mode it must be a
   * multiple of 4 (vnodes/4 MD5 digests per server at equal weights), the
   * `hashring` package's "vnode count" times 4.
   */
  readonly vnodes?: number;
}

/** One point of the ring, for pictures and debugging. */
export interface RingPoint {
  readonly hash: number;
  readonly node: string;
}

/** Summary of a node on a built ring. */
export interface RingNodeInfo extends RingNode {
  /** Points (virtual nodes) this node holds. */
  readonly points: number;
}

const ORDINAL_SCALE = 2 ** POINT_ORDINAL_BITS;

interface NodeRecord extends RingNode {
  /** xxhash mode: this node's points, computed once (they depend only on id and weight). */
  cachedPoints: Uint32Array | undefined;
}

export class HashRing implements Placement {
  readonly strategy = "ring" as const;
  readonly mode: RingMode;
  readonly vnodes: number;

  /** Nodes in insertion order (ketama's tie-break order). */
  #nodes: NodeRecord[] = [];
  #byId = new Map<string, NodeRecord>();

  // The built ring; rebuilt lazily after a change so bulk adds cost one sort.
  #dirty = true;
  #points: Uint32Array = new Uint32Array(0);
  /** owners[i]: index into #builtNodes of the node holding points[i]. */
  #owners: Uint32Array = new Uint32Array(0);
  #builtNodes: NodeRecord[] = [];
  #pointCounts: Uint32Array = new Uint32Array(0);
  #zoneKeys: string[] = [];
  #zoneCount = 0;

  constructor(nodes: Iterable<NodeInput> = [], options: HashRingOptions = {}) {
    const mode = options.mode ?? "xxhash";
    if (mode !== "xxhash" && mode !== "ketama") {
      throw new HashRingError(
        HashRingErrorCode.BAD_OPTION,
        `mode must be "xxhash" or "ketama" (got ${describe(mode)})`,
      );
    }
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    if (!Number.isSafeInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES_PER_NODE) {
      throw new HashRingError(
        HashRingErrorCode.BAD_OPTION,
        `vnodes must be an integer in 1..${MAX_VNODES_PER_NODE} (got ${describe(vnodes)})`,
      );
    }
    if (mode === "ketama" && vnodes % KETAMA_POINTS_PER_HASH !== 0) {
      throw new HashRingError(
        HashRingErrorCode.BAD_OPTION,
        `in ketama mode vnodes must be a multiple of ${KETAMA_POINTS_PER_HASH} (got ${vnodes})`,
      );
    }
    this.mode = mode;
    this.vnodes = vnodes;
    for (const node of nodes) this.addNode(node);
  }

  get size(): number {
    return this.#nodes.length;
  }

  /** Adds a node. Throws DUPLICATE_NODE, BAD_NODE_ID, BAD_WEIGHT, BAD_ZONE or TOO_MANY_POINTS. */
  addNode(input: NodeInput): void {
    const node = normalizeNode(input);
    if (this.#byId.has(node.id)) {
      throw new HashRingError(
        HashRingErrorCode.DUPLICATE_NODE,
        `node ${JSON.stringify(node.id)} is already on the ring`,
      );
    }
    const record: NodeRecord = { ...node, cachedPoints: undefined };
    const added = this.mode === "xxhash" ? this.#xxhashPointCount(record) : this.vnodes;
    if (this.#totalPointsUpperBound() + added > MAX_RING_POINTS) {
      throw new HashRingError(
        HashRingErrorCode.TOO_MANY_POINTS,
        `adding ${JSON.stringify(node.id)} would put more than ${MAX_RING_POINTS} points on the ring`,
      );
    }
    this.#nodes.push(record);
    this.#byId.set(node.id, record);
    this.#dirty = true;
  }

  /** Removes a node. Throws UNKNOWN_NODE when it is not on the ring. */
  removeNode(id: string): void {
    const record = this.#byId.get(id);
    if (record === undefined) {
      throw new HashRingError(
        HashRingErrorCode.UNKNOWN_NODE,
        `node ${describe(id)} is not on the ring`,
      );
    }
    this.#byId.delete(id);
    this.#nodes.splice(this.#nodes.indexOf(record), 1);
    this.#dirty = true;
  }

  hasNode(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Node ids in insertion order. */
  nodeIds(): string[] {
    return this.#nodes.map((node) => node.id);
  }

  /** Nodes in insertion order with their point counts. */
  nodes(): RingNodeInfo[] {
    this.#build();
    const counts = new Map<string, number>();
    this.#builtNodes.forEach((node, index) => {
      counts.set(node.id, this.#pointCounts[index]!);
    });
    return this.#nodes.map(({ id, weight, zone }) => ({
      id,
      weight,
      zone,
      points: counts.get(id) ?? 0,
    }));
  }

  /** A ring with the same options and nodes, independent of this one. */
  clone(): HashRing {
    const copy = new HashRing([], { mode: this.mode, vnodes: this.vnodes });
    for (const { id, weight, zone, cachedPoints } of this.#nodes) {
      copy.addNode({ id, weight, zone });
      // Points depend only on id, weight and options, which are equal: share them.
      copy.#byId.get(id)!.cachedPoints = cachedPoints;
    }
    return copy;
  }

  /** Total points on the ring. */
  get pointCount(): number {
    this.#build();
    return this.#points.length;
  }

  /** The key's position on the ring: an unsigned 32-bit integer. */
  hashOf(key: string): number {
    assertKey(key);
    return this.mode === "xxhash" ? xxhash32(key) : ketamaKeyHash(key);
  }

  /** The node owning `key`. Throws EMPTY_RING on a ring without nodes, BAD_KEY on a bad key. */
  owner(key: string): string {
    assertKey(key);
    this.#build();
    const points = this.#points;
    if (points.length === 0) throw emptyRing();
    const hash = this.mode === "xxhash" ? xxhash32(key) : ketamaKeyHash(key);
    // Inlined lower bound: the first point >= hash, wrapping to 0.
    let low = 0;
    let high = points.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (points[middle]! < hash) low = middle + 1;
      else high = middle;
    }
    if (low === points.length) low = 0;
    return this.#builtNodes[this.#owners[low]!]!.id;
  }

  /** The node owning a position on the ring (see hashOf). Throws BAD_HASH, EMPTY_RING. */
  ownerOfHash(hash: number): string {
    assertHash(hash);
    const position = this.#positionOf(hash); // builds first: read the arrays after this
    return this.#builtNodes[this.#owners[position]!]!.id;
  }

  /**
   * preferenceList for a ring position rather than a key: the replicas of a
   * whole hash range (a change plan's `last`, say) without a key in hand.
   */
  preferenceListOfHash(hash: number, n: number): string[] {
    assertHash(hash);
    assertCount("n", n);
    this.#build();
    if (this.#points.length === 0) throw emptyRing();
    return this.#preferenceIndexes(hash, n).map((index) => this.#builtNodes[index]!.id);
  }

  /**
   * The first n distinct nodes clockwise from the key. When nodes carry zones,
   * nodes of zones not yet in the list come first (clockwise order), then the
   * remaining nodes (clockwise order). A node without a zone counts as a zone
   * of its own. n larger than the node count returns every node (length
   * min(n, size)): a cluster smaller than its replication factor still places
   * each copy on a different node. Throws EMPTY_RING, BAD_KEY, BAD_COUNT.
   */
  preferenceList(key: string, n: number): string[] {
    assertKey(key);
    assertCount("n", n);
    this.#build();
    if (this.#points.length === 0) throw emptyRing();
    return this.#preferenceIndexes(this.hashOf(key), n).map((index) => this.#builtNodes[index]!.id);
  }

  /** Every point in clockwise order with its owner (for pictures; O(P) allocation). */
  points(): RingPoint[] {
    this.#build();
    const out: RingPoint[] = [];
    for (let i = 0; i < this.#points.length; i++) {
      out.push({ hash: this.#points[i]!, node: this.#builtNodes[this.#owners[i]!]!.id });
    }
    return out;
  }

  /**
   * Read-only view of the built ring for algorithms in this package (change
   * planning, bounded loads, simulation): sorted points, owner indexes and the
   * node list those indexes refer to. Valid until the next addNode/removeNode.
   */
  layout(): RingLayout {
    this.#build();
    return { points: this.#points, owners: this.#owners, nodes: this.#builtNodes };
  }

  /** Index (into points) of the first point at or after hash, wrapping; throws EMPTY_RING. */
  #positionOf(hash: number): number {
    this.#build();
    const points = this.#points;
    if (points.length === 0) throw emptyRing();
    return lowerBound(points, hash);
  }

  #preferenceIndexes(hash: number, n: number): number[] {
    const points = this.#points;
    const owners = this.#owners;
    const nodeCount = this.#builtNodes.length;
    const wanted = Math.min(n, nodeCount);
    const seen = new Uint8Array(nodeCount);
    const zonesUsed = new Set<string>();
    const picked: number[] = [];
    const skipped: number[] = [];
    let seenCount = 0;
    let position = lowerBound(points, hash);
    // Walk clockwise once. While zones remain unused, take nodes of new zones
    // and remember the others; stop as soon as the list is full or every
    // zone is represented.
    let steps = 0;
    while (
      steps < points.length &&
      picked.length < wanted &&
      zonesUsed.size < this.#zoneCount &&
      seenCount < nodeCount
    ) {
      const node = owners[position]!;
      if (seen[node] === 0) {
        seen[node] = 1;
        seenCount++;
        const zone = this.#zoneKeys[node]!;
        if (zonesUsed.has(zone)) {
          skipped.push(node);
        } else {
          zonesUsed.add(zone);
          picked.push(node);
        }
      }
      position = position + 1 === points.length ? 0 : position + 1;
      steps++;
    }
    // Then the rest, clockwise: the nodes passed over, then the walk continues.
    for (const node of skipped) {
      if (picked.length >= wanted) break;
      picked.push(node);
    }
    while (steps < points.length && picked.length < wanted && seenCount < nodeCount) {
      const node = owners[position]!;
      if (seen[node] === 0) {
        seen[node] = 1;
        seenCount++;
        picked.push(node);
      }
      position = position + 1 === points.length ? 0 : position + 1;
      steps++;
    }
    // Only ketama mode can leave a node without points; such nodes come last.
    for (let node = 0; node < nodeCount && picked.length < wanted; node++) {
      if (seen[node] === 0) picked.push(node);
    }
    return picked;
  }

  #xxhashPointCount(node: RingNode): number {
    return Math.min(MAX_VNODES_PER_NODE, Math.max(1, Math.round(node.weight * this.vnodes)));
  }

  #totalPointsUpperBound(): number {
    if (this.mode === "ketama") return this.#nodes.length * this.vnodes;
    let total = 0;
    for (const node of this.#nodes) total += this.#xxhashPointCount(node);
    return total;
  }

  #build(): void {
    if (!this.#dirty) return;
    const built =
      this.mode === "xxhash"
        ? [...this.#nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        : [...this.#nodes];
    const perNode =
      this.mode === "xxhash" ? this.#xxhashPoints(built) : ketamaPoints(built, this.vnodes);
    let total = 0;
    for (const points of perNode) total += points.length;
    // Pack (point, ordinal) into one exact double so a native typed-array
    // sort orders by point, then by build order: the tie-break rule.
    const packed = new Float64Array(total);
    const ownerOfOrdinal = new Uint32Array(total);
    let ordinal = 0;
    perNode.forEach((points, nodeIndex) => {
      for (const point of points) {
        packed[ordinal] = point * ORDINAL_SCALE + ordinal;
        ownerOfOrdinal[ordinal] = nodeIndex;
        ordinal++;
      }
    });
    packed.sort();
    const sortedPoints = new Uint32Array(total);
    const owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const value = packed[i]!;
      const point = Math.floor(value / ORDINAL_SCALE);
      sortedPoints[i] = point;
      owners[i] = ownerOfOrdinal[value - point * ORDINAL_SCALE]!;
    }
    this.#points = sortedPoints;
    this.#owners = owners;
    this.#builtNodes = built;
    this.#pointCounts = Uint32Array.from(perNode, (points) => points.length);
    this.#zoneKeys = built.map((node) =>
      node.zone === undefined ? `\u0000node:${node.id}` : `zone:${node.zone}`,
    );
    this.#zoneCount = new Set(this.#zoneKeys).size;
    this.#dirty = false;
  }

  #xxhashPoints(nodes: readonly NodeRecord[]): Uint32Array[] {
    return nodes.map((node) => {
      if (node.cachedPoints === undefined) {
        const count = this.#xxhashPointCount(node);
        const points = new Uint32Array(count);
        for (let i = 0; i < count; i++) points[i] = xxhash32(`${node.id}${VNODE_SEPARATOR}${i}`);
        node.cachedPoints = points;
      }
      return node.cachedPoints;
    });
  }
}

export interface RingLayout {
  readonly points: Uint32Array;
  readonly owners: Uint32Array;
  readonly nodes: readonly RingNode[];
}

/**
 * libketama's continuum, computed exactly as `hashring@3.2.0` does (the same
 * floating-point expression, so the same floor at every server count).
 */
function ketamaPoints(nodes: readonly RingNode[], vnodes: number): Uint32Array[] {
  const hashesPerServer = vnodes / KETAMA_POINTS_PER_HASH;
  const totalWeight = nodes.reduce((sum, node) => sum + node.weight, 0);
  return nodes.map((node) => {
    const share = node.weight / totalWeight;
    const digests = Math.floor(share * hashesPerServer * nodes.length);
    const points = new Uint32Array(digests * KETAMA_POINTS_PER_HASH);
    const words = new Uint32Array(4);
    for (let i = 0; i < digests; i++) {
      md5Words(`${node.id}-${i}`, words);
      points.set(words, i * KETAMA_POINTS_PER_HASH);
    }
    return points;
  });
}

/** Index of the first element >= value, or 0 when every element is smaller (the wrap). */
export function lowerBound(sorted: Uint32Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low === sorted.length ? 0 : low;
}

function assertHash(hash: unknown): asserts hash is number {
  if (typeof hash !== "number" || !Number.isInteger(hash) || hash < 0 || hash > MAX_POINT) {
    throw new HashRingError(
      HashRingErrorCode.BAD_HASH,
      `a ring position must be an integer in 0..${MAX_POINT} (got ${describe(hash)})`,
    );
  }
}

function emptyRing(): HashRingError {
  return new HashRingError(HashRingErrorCode.EMPTY_RING, "the ring has no nodes");
}
