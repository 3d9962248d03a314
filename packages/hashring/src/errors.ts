/**
 * The error catalogue of @scaleout/hashring. Codes are stable: callers may
 * switch on `error.code`; messages may improve between versions.
 */

export const HashRingErrorCode = {
  /** A lookup (owner, preference list, assignment) on a ring with no nodes. */
  EMPTY_RING: "HASHRING_ERR_EMPTY_RING",
  /** addNode with an id that is already on the ring. */
  DUPLICATE_NODE: "HASHRING_ERR_DUPLICATE_NODE",
  /** removeNode (or a jump-hash removal) of an id that is not on the ring. */
  UNKNOWN_NODE: "HASHRING_ERR_UNKNOWN_NODE",
  /** A node id that is not a non-empty string. */
  BAD_NODE_ID: "HASHRING_ERR_BAD_NODE_ID",
  /** A weight that is not a finite number greater than zero. */
  BAD_WEIGHT: "HASHRING_ERR_BAD_WEIGHT",
  /** A zone that is given but is not a non-empty string. */
  BAD_ZONE: "HASHRING_ERR_BAD_ZONE",
  /** A key that is not a string, or is the empty string. */
  BAD_KEY: "HASHRING_ERR_BAD_KEY",
  /** A ring position that is not an integer in [0, 2^32 - 1]. */
  BAD_HASH: "HASHRING_ERR_BAD_HASH",
  /** A count (preference-list length, key count) that is not a positive integer. */
  BAD_COUNT: "HASHRING_ERR_BAD_COUNT",
  /** An option out of its documented range (vnodes, epsilon, ...). */
  BAD_OPTION: "HASHRING_ERR_BAD_OPTION",
  /** The ring would hold more points than MAX_RING_POINTS. */
  TOO_MANY_POINTS: "HASHRING_ERR_TOO_MANY_POINTS",
  /** A change plan between two rings that do not hash keys the same way. */
  INCOMPATIBLE_RINGS: "HASHRING_ERR_INCOMPATIBLE_RINGS",
  /** Jump consistent hash can only remove the most recently added node. */
  JUMP_REMOVE_NOT_LAST: "HASHRING_ERR_JUMP_REMOVE_NOT_LAST",
} as const;

export type HashRingErrorCode = (typeof HashRingErrorCode)[keyof typeof HashRingErrorCode];

export class HashRingError extends Error {
  readonly code: HashRingErrorCode;

  constructor(code: HashRingErrorCode, message: string) {
    super(message);
    this.name = "HashRingError";
    this.code = code;
  }
}

/** Throws BAD_KEY unless `key` is a non-empty string (the one check every lookup shares). */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new HashRingError(
      HashRingErrorCode.BAD_KEY,
      typeof key === "string"
        ? "key must be a non-empty string (got an empty string)"
        : `key must be a non-empty string (got ${describe(key)})`,
    );
  }
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}
