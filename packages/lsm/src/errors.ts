/**
 * The engine's error catalogue: every error it throws carries one of these
 * stable codes, so callers (the kv node, the CLI) can branch on `error.code`.
 */
export const LsmErrorCode = {
  /** Another process (or another open() in this one) holds the directory's LOCK file. */
  LOCKED: "SCALEOUT_LSM_ERR_LOCKED",
  /** The directory has no database and createIfMissing is false. */
  NOT_FOUND: "SCALEOUT_LSM_ERR_NOT_FOUND",
  /** The database was closed. */
  CLOSED: "SCALEOUT_LSM_ERR_CLOSED",
  /** A checksum, magic number or structure check failed; the message names the file and offset. */
  CORRUPTION: "SCALEOUT_LSM_ERR_CORRUPTION",
  /** A key, value or batch is past its documented limit, or is empty where that is not allowed. */
  INVALID_ARGUMENT: "SCALEOUT_LSM_ERR_INVALID_ARGUMENT",
  /** An OpenOptions field is out of range. */
  INVALID_OPTION: "SCALEOUT_LSM_ERR_INVALID_OPTION",
  /** A background flush or compaction failed (e.g. disk full); writes are refused until reopen. */
  BACKGROUND: "SCALEOUT_LSM_ERR_BACKGROUND",
  /** A released snapshot was used. */
  SNAPSHOT_RELEASED: "SCALEOUT_LSM_ERR_SNAPSHOT_RELEASED",
} as const;

export type LsmErrorCodeValue = (typeof LsmErrorCode)[keyof typeof LsmErrorCode];

export class LsmError extends Error {
  readonly code: LsmErrorCodeValue;

  constructor(code: LsmErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LsmError";
    this.code = code;
  }
}

/** A corruption error that names the file and byte offset where the check failed. */
export function corruption(file: string, offset: number, what: string): LsmError {
  return new LsmError(
    LsmErrorCode.CORRUPTION,
    `corruption in ${file} at offset ${offset}: ${what}`,
  );
}
