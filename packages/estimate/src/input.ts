/**
 * Reading assumptions: YAML text into raw assumptions, and flag overrides
 * layered on top of a file or preset. Validation proper is in assumptions.ts.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { RawAssumptions } from "./assumptions.js";
import { ASSUMPTIONS_FILE_SIZE_BYTES_MAX } from "./constants.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { describeType } from "./number-text.js";

/** Aliases let a tiny file expand enormously; an assumptions file needs few. */
const YAML_ALIAS_COUNT_MAX = 100;

/** Parses YAML text to raw assumptions; any failure names `source` and the line. */
export function parseAssumptionsYaml(text: string, source: string): RawAssumptions {
  if (Buffer.byteLength(text, "utf8") > ASSUMPTIONS_FILE_SIZE_BYTES_MAX) {
    throw new EstimateError(
      EstimateErrorCode.TOO_LARGE,
      undefined,
      `larger than ${ASSUMPTIONS_FILE_SIZE_BYTES_MAX} bytes; an assumptions file is a page of YAML`,
      source,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: YAML_ALIAS_COUNT_MAX, uniqueKeys: true });
  } catch (error) {
    const reason =
      error instanceof YAMLParseError
        ? `malformed YAML: ${(error.message.split("\n")[0] ?? "").trim()}`
        : `malformed YAML: ${error instanceof Error ? error.message : String(error)}`;
    throw new EstimateError(EstimateErrorCode.MALFORMED_YAML, undefined, reason, source);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new EstimateError(
      EstimateErrorCode.MALFORMED_YAML,
      undefined,
      `expected a YAML mapping of assumptions (field: value), got ${describeType(document)}`,
      source,
    );
  }
  return document as RawAssumptions;
}

/**
 * `overrides` replace fields of `base`; `objects` merge by kind, so a flag can
 * change one object kind of a preset without restating the others.
 */
export function mergeAssumptions(base: RawAssumptions, overrides: RawAssumptions): RawAssumptions {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, value] of Object.entries(overrides)) {
    const previous = merged[field];
    if (field === "objects" && isMapping(previous) && isMapping(value)) {
      merged[field] = { ...previous, ...value };
    } else {
      merged[field] = value;
    }
  }
  return merged;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** "monthly_active_users" → "monthly-active-users", for flag names. */
export function fieldToFlag(field: string): string {
  return field.replaceAll("_", "-");
}
