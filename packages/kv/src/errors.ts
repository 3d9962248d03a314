/**
 * Error catalogue of the kv node. Operator-facing failures (bad configuration,
 * a port in use, an engine that cannot open) carry a stable `SCALEOUT_ERR_KV_*`
 * code. Errors sent to Redis clients are not in this catalogue: they are the
 * exact texts Redis sends, kept in `commands/replies.ts`.
 */
export const KV_ERROR_CODES = {
  CONFIG: "SCALEOUT_ERR_KV_CONFIG",
  ENGINE: "SCALEOUT_ERR_KV_ENGINE",
  LISTEN: "SCALEOUT_ERR_KV_LISTEN",
  SHUTDOWN: "SCALEOUT_ERR_KV_SHUTDOWN",
} as const;

export type KvErrorCode = (typeof KV_ERROR_CODES)[keyof typeof KV_ERROR_CODES];

export class KvError extends Error {
  readonly code: KvErrorCode;

  constructor(code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KvError";
    this.code = code;
  }
}

/** A configuration value that failed validation; the message names the field. */
export class ConfigError extends KvError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(KV_ERROR_CODES.CONFIG, `${field}: ${message}`);
    this.name = "ConfigError";
    this.field = field;
  }
}
