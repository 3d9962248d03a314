/**
 * Error catalogue of the cluster shell (the core's codes are in ../cluster/errors.ts).
 */
export const ShellErrorCode = {
  /** No --join seed answered within JOIN_TIMEOUT_MS. */
  JOIN: "SCALEOUT_ERR_KV_JOIN",
  /** A bad cluster setting (node id, address, mode...). */
  CLUSTER_CONFIG: "SCALEOUT_ERR_KV_CLUSTER_CONFIG",
  /** The durable engine failed a write: the step's replies are errors, nothing is sent. */
  PERSIST: "SCALEOUT_ERR_KV_PERSIST",
  /** The node is shutting down. */
  CLOSED: "SCALEOUT_ERR_KV_CLOSED",
  /** An admin or client connection to a node failed or answered an error. */
  CLIENT: "SCALEOUT_ERR_KV_CLIENT",
} as const;

export type ShellErrorCode = (typeof ShellErrorCode)[keyof typeof ShellErrorCode];

export class ShellError extends Error {
  readonly code: ShellErrorCode;

  constructor(code: ShellErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ShellError";
    this.code = code;
  }
}
