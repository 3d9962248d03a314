/**
 * One estimate request as a front end (the CLI) gathers it: a YAML file or a
 * preset (or neither), flag overrides, display options. Errors come back
 * naming where the bad value came from: the file, the preset, or the flag.
 */
import { parseAssumptions, type RawAssumptions } from "./assumptions.js";
import { EstimateError, EstimateErrorCode } from "./errors.js";
import { type Estimate, estimate, type Reference } from "./estimate.js";
import { DEFAULT_HUMAN_OPTIONS } from "./human.js";
import { fieldToFlag, mergeAssumptions, parseAssumptionsYaml } from "./input.js";
import { findPreset } from "./presets.js";
import type { SizeUnits } from "./size.js";

export interface EstimateRequest {
  /** YAML text and the name to report it by (usually the file path). */
  readonly yaml?: { readonly text: string; readonly source: string };
  readonly preset?: string;
  /** Values from flags; they replace the file's or preset's (objects merge by kind). */
  readonly overrides?: RawAssumptions;
  readonly sizeUnits?: SizeUnits;
}

export interface EstimateResult {
  readonly estimate: Estimate;
  /** Why the preset's book comparison was left out, if it was. */
  readonly referenceOmitted: string | undefined;
}

export function runEstimateRequest(request: EstimateRequest): EstimateResult {
  if (request.yaml !== undefined && request.preset !== undefined) {
    throw new EstimateError(
      EstimateErrorCode.CONFLICTING_FIELDS,
      "preset",
      "give either an assumptions file or --preset, not both",
    );
  }
  let base: RawAssumptions = {};
  let source = "flags";
  let reference: Reference | undefined;
  if (request.yaml !== undefined) {
    base = parseAssumptionsYaml(request.yaml.text, request.yaml.source);
    source = request.yaml.source;
  } else if (request.preset !== undefined) {
    const preset = findPreset(request.preset);
    base = preset.raw;
    source = `preset ${preset.name}`;
    reference = preset.reference;
  }
  const overrides = request.overrides ?? {};
  const overridden = Object.keys(overrides).filter((field) => overrides[field] !== undefined);
  // The book's figures only describe the book's assumptions.
  const referenceOmitted =
    reference !== undefined && overridden.length > 0
      ? `comparison with the book left out: ${overridden.map((field) => `--${fieldToFlag(field)}`).join(", ")} changed the preset`
      : undefined;

  let assumptions: ReturnType<typeof parseAssumptions>;
  try {
    assumptions = parseAssumptions(mergeAssumptions(base, overrides));
  } catch (error) {
    if (!(error instanceof EstimateError)) throw error;
    throw locate(error, overrides, source);
  }
  const result = estimate(assumptions, {
    human: { ...DEFAULT_HUMAN_OPTIONS, sizeUnits: request.sizeUnits ?? "decimal" },
    ...(referenceOmitted === undefined && reference !== undefined ? { reference } : {}),
  });
  return {
    estimate:
      referenceOmitted === undefined
        ? result
        : { ...result, notes: [...result.notes, referenceOmitted] },
    referenceOmitted,
  };
}

/** Names the flag when the bad value came from one, else the file or preset. */
function locate(error: EstimateError, overrides: RawAssumptions, source: string): EstimateError {
  const path = error.field?.split(".") ?? [];
  const [root, kind, ...rest] = path;
  if (
    root === "objects" &&
    kind !== undefined &&
    isMapping(overrides.objects) &&
    kind in overrides.objects
  ) {
    const field = [`--object ${kind}`, ...rest].join(": ");
    return new EstimateError(error.code, field, error.reason);
  }
  const fromFlags = source === "flags" || overrides[root ?? ""] !== undefined;
  if (root !== undefined && root !== "objects" && fromFlags) {
    return new EstimateError(error.code, `--${fieldToFlag(root)}`, error.reason);
  }
  return error.withSource(source);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
