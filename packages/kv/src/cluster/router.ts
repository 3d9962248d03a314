/**
 * Routing for a cluster-aware client (the Dynamo paper's client-driven
 * coordination): the client keeps the member list (from any node's status or a
 * NOT_REPLICA reply), builds the same partition table the nodes use, and sends
 * each request straight to a home replica of its key, skipping the forwarding
 * hop. Pure: the network client that owns the connections wraps it.
 */
import { DEFAULT_N } from "./constants.js";
import {
  locateKey,
  type MemberPlacementInfo,
  type NodeId,
  PartitionTable,
  type RingFactory,
} from "./placement.js";

export class ClusterRouter {
  private table: PartitionTable;
  private signature = "";
  /** Round-robin position, so reads and writes spread over a key's replicas. */
  private turn = 0;

  constructor(
    private readonly ringFactory: RingFactory,
    members: readonly MemberPlacementInfo[],
    private readonly replicas: number = DEFAULT_N,
  ) {
    this.table = new PartitionTable(ringFactory(members), replicas, members);
    this.signature = signatureOf(members);
  }

  /** Adopt a newer member list (status "normal" members only); cheap when unchanged. */
  update(members: readonly MemberPlacementInfo[]): void {
    const signature = signatureOf(members);
    if (signature === this.signature) return;
    this.signature = signature;
    this.table = new PartitionTable(this.ringFactory(members), this.replicas, members);
  }

  /** The key's home replicas, in preference order. */
  replicasFor(key: string): NodeId[] {
    return this.table.home(locateKey(key).partition);
  }

  /**
   * The node to send a request for `key` to: a reachable home replica, taken in
   * turn; null when none is reachable (send to any node: it forwards).
   */
  coordinatorFor(key: string, reachable: (node: NodeId) => boolean): NodeId | null {
    const home = this.replicasFor(key).filter(reachable);
    if (home.length === 0) return null;
    this.turn = (this.turn + 1) % home.length;
    return home[this.turn]!;
  }
}

function signatureOf(members: readonly MemberPlacementInfo[]): string {
  return JSON.stringify([...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}
