/**
 * The estimator's error catalogue. Every failure the user can cause has a
 * stable code and a message that names the field it is about, so the CLI can
 * print exactly one line.
 */

export const EstimateErrorCode = {
  /** A field name the assumptions schema does not know (usually a typo). */
  UNKNOWN_FIELD: "ESTIMATE_ERR_UNKNOWN_FIELD",
  /** A unit the parser does not know ("5 parsecs"), or a missing unit on a size/duration. */
  BAD_UNIT: "ESTIMATE_ERR_BAD_UNIT",
  /** Text that is not a number in the expected shape ("lots"). */
  NOT_A_NUMBER: "ESTIMATE_ERR_NOT_A_NUMBER",
  /** A count, size or duration below zero. */
  NEGATIVE: "ESTIMATE_ERR_NEGATIVE",
  /** A value outside its range: a fraction above 100 %, a peak factor below 1. */
  OUT_OF_RANGE: "ESTIMATE_ERR_OUT_OF_RANGE",
  /** A value of the wrong YAML type (a list where a number belongs). */
  WRONG_TYPE: "ESTIMATE_ERR_WRONG_TYPE",
  /** Something needed for any estimate is missing, or two fields contradict. */
  MISSING_FIELD: "ESTIMATE_ERR_MISSING_FIELD",
  CONFLICTING_FIELDS: "ESTIMATE_ERR_CONFLICTING_FIELDS",
  /** The file is not YAML, or not a YAML mapping. */
  MALFORMED_YAML: "ESTIMATE_ERR_MALFORMED_YAML",
  /** No preset or reference table by that name. */
  UNKNOWN_PRESET: "ESTIMATE_ERR_UNKNOWN_PRESET",
  UNKNOWN_TABLE: "ESTIMATE_ERR_UNKNOWN_TABLE",
  /** An input beyond a fixed limit (file size, number of object kinds). */
  TOO_LARGE: "ESTIMATE_ERR_TOO_LARGE",
} as const;

export type EstimateErrorCode = (typeof EstimateErrorCode)[keyof typeof EstimateErrorCode];

export class EstimateError extends Error {
  readonly code: EstimateErrorCode;
  /** The field the error is about (`daily_active_fraction`, `objects.media.size`), if any. */
  readonly field: string | undefined;
  /** Why the value was refused, without the field and source prefixes. */
  readonly reason: string;
  /** Where the value came from (a file name, `--flags`, a preset), if known. */
  readonly source: string | undefined;

  constructor(code: EstimateErrorCode, field: string | undefined, reason: string, source?: string) {
    super([source, field, reason].filter((part) => part !== undefined).join(": "));
    this.name = "EstimateError";
    this.code = code;
    this.field = field;
    this.reason = reason;
    this.source = source;
  }

  /** The same error, reported as coming from `source` (a file name or "flags"). */
  withSource(source: string): EstimateError {
    return new EstimateError(this.code, this.field, this.reason, source);
  }

  /** The same error about a field nested under `parent` (`media` → `objects.media`). */
  under(parent: string): EstimateError {
    const field = this.field === undefined ? parent : `${parent}.${this.field}`;
    return new EstimateError(this.code, field, this.reason, this.source);
  }
}
