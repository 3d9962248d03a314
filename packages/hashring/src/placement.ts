/**
 * The small interface every key-placement strategy shares, so the simulator
 * and the tests can compare a ring, jump hash and rendezvous hashing on the
 * same keys.
 */
import type { NodeInput } from "./node.js";

export type StrategyName = "ring" | "jump" | "rendezvous";

export interface Placement {
  readonly strategy: StrategyName;
  /** Number of nodes. */
  readonly size: number;
  /** Node ids, in the strategy's own stable order. */
  nodeIds(): string[];
  /** The node that owns `key`. Throws HASHRING_ERR_EMPTY_RING without nodes. */
  owner(key: string): string;
  addNode(node: NodeInput): void;
  removeNode(id: string): void;
}
