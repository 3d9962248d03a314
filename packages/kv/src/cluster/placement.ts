/**
 * Placement: key → partition → preference list.
 *
 * The key space is cut into PARTITION_COUNT fixed partitions (Dynamo's strategy
 * 3, Riak's ring): a key's partition comes from the SHA-1 of the key, and each
 * partition is placed on the consistent-hash ring (packages/hashring) by the name
 * `partition:<p>`. All keys of a partition share one replica set, so a partition
 * is the unit of Merkle anti-entropy, of handoff and of ownership transfer.
 *
 * The ring's preference list already puts distinct zones (data centers) first;
 * PartitionTable then prefers distinct racks for the remaining home replicas
 * (a second failure domain under the DC). The first N nodes are the
 * partition's home replicas and the rest, in ring order, are the fallbacks a
 * sloppy quorum uses when a home replica is down.
 */
import { createHash } from "node:crypto";
import { MERKLE_BUCKETS_PER_PARTITION, PARTITION_COUNT } from "./constants.js";

export type NodeId = string;

/** What the cluster core needs from a ring (HashRing implements it). */
export interface RingView {
  readonly size: number;
  /** The first n distinct nodes for `key`, distinct zones first, then clockwise. */
  preferenceList(key: string, n: number): NodeId[];
}

export interface MemberPlacementInfo {
  readonly id: NodeId;
  /** Data center: the ring's zone, so replicas spread over DCs first. */
  readonly dc: string;
  /** Rack within the data center: replicas spread over racks next (absent: one rack). */
  readonly rack?: string;
  readonly weight: number;
}

/** Builds a ring for a membership; the default uses @scaleout/hashring's HashRing. */
export type RingFactory = (members: readonly MemberPlacementInfo[]) => RingView;

export interface KeyLocation {
  readonly partition: number;
  readonly bucket: number;
}

/** Partition and Merkle bucket of a key, from independent bits of SHA-1(key). */
export function locateKey(key: string): KeyLocation {
  const digest = createHash("sha1").update(key).digest();
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4);
  return {
    partition: Math.floor((high / 2 ** 32) * PARTITION_COUNT),
    bucket: Math.floor((low / 2 ** 32) * MERKLE_BUCKETS_PER_PARTITION),
  };
}

export function partitionName(partition: number): string {
  return `partition:${partition}`;
}

/**
 * Preference lists of every partition for one ring, computed once. With the
 * members' placement (`members`), the N home replicas are chosen from the
 * ring's order in three passes — a node of a data center not yet chosen, then
 * a node of a (data center, rack) not yet chosen, then any — so replicas share
 * a DC only when there are fewer DCs than N, and a rack only when that DC has
 * too few racks. Every node and client must build the table from the same
 * members to agree on it.
 */
export class PartitionTable {
  private readonly orders: NodeId[][];

  constructor(
    ring: RingView,
    readonly replicas: number,
    members: readonly MemberPlacementInfo[] = [],
  ) {
    const placement = new Map(members.map((m) => [m.id, m]));
    this.orders = [];
    for (let p = 0; p < PARTITION_COUNT; p += 1) {
      const order = ring.size === 0 ? [] : ring.preferenceList(partitionName(p), ring.size);
      this.orders.push(placement.size === 0 ? order : spreadHome(order, replicas, placement));
    }
  }

  /** The partition's N home replicas (fewer when the cluster is smaller than N). */
  home(partition: number, n: number = this.replicas): NodeId[] {
    return (this.orders[partition] ?? []).slice(0, n);
  }

  /** Every node in preference order: home replicas first, then fallbacks. */
  order(partition: number): readonly NodeId[] {
    return this.orders[partition] ?? [];
  }

  isHome(partition: number, node: NodeId, n: number = this.replicas): boolean {
    return this.home(partition, n).includes(node);
  }
}

/** Reorder a ring order so its first `n` nodes spread over DCs, then racks (see PartitionTable). */
function spreadHome(
  order: readonly NodeId[],
  n: number,
  placement: ReadonlyMap<NodeId, MemberPlacementInfo>,
): NodeId[] {
  const chosen: NodeId[] = [];
  const taken = new Set<NodeId>();
  const dcs = new Set<string>();
  const racks = new Set<string>();
  const domainOf = (id: NodeId) => {
    const member = placement.get(id);
    const dc = member?.dc ?? "";
    return { dc, rack: `${dc}\u0000${member?.rack ?? ""}` };
  };
  const take = (id: NodeId) => {
    const { dc, rack } = domainOf(id);
    chosen.push(id);
    taken.add(id);
    dcs.add(dc);
    racks.add(rack);
  };
  for (const id of order) if (chosen.length < n && !dcs.has(domainOf(id).dc)) take(id);
  for (const id of order) {
    if (chosen.length < n && !taken.has(id) && !racks.has(domainOf(id).rack)) take(id);
  }
  for (const id of order) if (chosen.length < n && !taken.has(id)) take(id);
  return [...chosen, ...order.filter((id) => !taken.has(id))];
}

export interface Target {
  readonly node: NodeId;
  /** The home replica this copy stands in for (a hinted copy), or null. */
  readonly hintFor: NodeId | null;
}

/**
 * Sloppy quorum: each healthy home replica gets its copy; each unhealthy one is
 * replaced by the next healthy node further down the preference list, which keeps
 * a hint naming the intended owner.
 */
export function selectTargets(
  order: readonly NodeId[],
  n: number,
  isHealthy: (node: NodeId) => boolean,
): Target[] {
  const fallbacks = order.slice(n).filter(isHealthy);
  const targets: Target[] = [];
  for (const node of order.slice(0, n)) {
    if (isHealthy(node)) {
      targets.push({ node, hintFor: null });
    } else {
      const stand = fallbacks.shift();
      if (stand !== undefined) targets.push({ node: stand, hintFor: node });
    }
  }
  return targets;
}

/**
 * The partitions whose home set changes between two tables, with the nodes that
 * gain them: the change plan at partition granularity (keys move exactly when
 * their partition's home set changes).
 */
export interface PartitionMove {
  readonly partition: number;
  readonly before: readonly NodeId[];
  readonly after: readonly NodeId[];
  readonly gained: readonly NodeId[];
  readonly lost: readonly NodeId[];
}

export function planPartitionMoves(before: PartitionTable, after: PartitionTable): PartitionMove[] {
  const moves: PartitionMove[] = [];
  for (let p = 0; p < PARTITION_COUNT; p += 1) {
    const b = before.home(p);
    const a = after.home(p);
    const gained = a.filter((node) => !b.includes(node));
    const lost = b.filter((node) => !a.includes(node));
    if (gained.length > 0 || lost.length > 0) {
      moves.push({ partition: p, before: b, after: a, gained, lost });
    }
  }
  return moves;
}
