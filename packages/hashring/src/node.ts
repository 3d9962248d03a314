/**
 * Node descriptions shared by every placement strategy, and their validation.
 */
import { describe, HashRingError, HashRingErrorCode } from "./errors.js";

/** How a caller names a node: a bare id, or an id with a weight and a zone. */
export interface NodeSpec {
  /** Stable identity, e.g. "10.0.0.7:11211". Part of every point's hash. */
  readonly id: string;
  /** Relative capacity (default 1): virtual nodes are proportional to it. Finite and > 0. */
  readonly weight?: number;
  /** Failure domain (data center, rack, "dc1/rack3"); preference lists spread over zones first. */
  readonly zone?: string;
}

export type NodeInput = string | NodeSpec;

/** A validated node, as the strategies store it. */
export interface RingNode {
  readonly id: string;
  readonly weight: number;
  readonly zone: string | undefined;
}

export function normalizeNode(input: NodeInput): RingNode {
  const spec: NodeSpec = typeof input === "string" ? { id: input } : input;
  if (typeof spec !== "object" || spec === null) {
    throw new HashRingError(
      HashRingErrorCode.BAD_NODE_ID,
      `a node must be an id string or {id, weight?, zone?} (got ${describe(input)})`,
    );
  }
  const { id, weight = 1, zone } = spec;
  if (typeof id !== "string" || id.length === 0) {
    throw new HashRingError(
      HashRingErrorCode.BAD_NODE_ID,
      `node id must be a non-empty string (got ${describe(id)})`,
    );
  }
  if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0) {
    throw new HashRingError(
      HashRingErrorCode.BAD_WEIGHT,
      `weight of node ${JSON.stringify(id)} must be a finite number > 0 (got ${describe(weight)})`,
    );
  }
  if (zone !== undefined && (typeof zone !== "string" || zone.length === 0)) {
    throw new HashRingError(
      HashRingErrorCode.BAD_ZONE,
      `zone of node ${JSON.stringify(id)} must be a non-empty string when given (got ${describe(zone)})`,
    );
  }
  return { id, weight, zone };
}

/** Checks a count argument such as preferenceList's n. */
export function assertCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new HashRingError(
      HashRingErrorCode.BAD_COUNT,
      `${name} must be a positive integer (got ${describe(value)})`,
    );
  }
}
