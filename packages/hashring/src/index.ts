/**
 * @scaleout/hashring: consistent hashing for scaleout (chapter 5).
 * See README.md for the algorithms, costs and measured results.
 */
export {
  assertEpsilon,
  BoundedLoadBalancer,
  type BoundedLoadOptions,
  boundedCapacity,
} from "./bounded-load.js";
export { changeAt, type OwnershipChange, planChanges } from "./change-plan.js";
export {
  DEFAULT_EPSILON,
  DEFAULT_VNODES,
  HASH_SPACE,
  KETAMA_HASHES_PER_SERVER,
  KETAMA_POINTS_PER_HASH,
  MAX_RING_POINTS,
  MAX_VNODES_PER_NODE,
} from "./constants.js";
export { HashRingError, HashRingErrorCode } from "./errors.js";
export { ketamaKeyHash, xxhash32 } from "./hash.js";
export { JumpHash, jumpBucket, jumpBucketBigInt } from "./jump.js";
export type { NodeInput, NodeSpec, RingNode } from "./node.js";
export type { Placement, StrategyName } from "./placement.js";
export { mix32, RendezvousHash, rendezvousScore } from "./rendezvous.js";
export {
  HashRing,
  type HashRingOptions,
  type RingLayout,
  type RingMode,
  type RingNodeInfo,
  type RingPoint,
} from "./ring.js";
export {
  formatSimulation,
  MAX_SIMULATION_KEYS,
  MAX_SIMULATION_NODES,
  nodeIdsFor,
  SIMULATION_STRATEGIES,
  type SimulationOptions,
  type SimulationReport,
  type SimulationRow,
  type SimulationStrategy,
  simulate,
  simulationKey,
} from "./simulate.js";
export { nodeColor, type RingSvgOptions, renderRingSvg } from "./svg.js";
