/**
 * The error catalogue of the cluster core. Codes are stable; messages may improve.
 */
export const ClusterErrorCode = {
  /** Fewer replies than the quorum arrived before the request's deadline. */
  TIMEOUT: "SCALEOUT_ERR_KV_TIMEOUT",
  /** Fewer healthy nodes than the quorum needs are known: failed before sending. */
  UNAVAILABLE: "SCALEOUT_ERR_KV_UNAVAILABLE",
  /** A write would push a key past SIBLING_MAX_COUNT live siblings. */
  TOO_MANY_SIBLINGS: "SCALEOUT_ERR_KV_TOO_MANY_SIBLINGS",
  /** An opaque causal context that does not decode. */
  BAD_CONTEXT: "SCALEOUT_ERR_KV_BAD_CONTEXT",
  /** N/W/R out of range (W or R greater than N, or below 1). */
  BAD_QUORUM: "SCALEOUT_ERR_KV_BAD_QUORUM",
  /** INCR/DECR by a delta that is not a safe integer. */
  BAD_DELTA: "SCALEOUT_ERR_KV_BAD_DELTA",
  /** A peer frame that is too large or does not decode (the shell drops the connection). */
  BAD_FRAME: "SCALEOUT_ERR_KV_BAD_FRAME",
  /** Too many requests in flight on this coordinator. */
  OVERLOADED: "SCALEOUT_ERR_KV_OVERLOADED",
} as const;

export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string) {
    super(message);
    this.name = "ClusterError";
    this.code = code;
  }
}
