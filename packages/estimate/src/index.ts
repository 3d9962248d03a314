/**
 * @scaleout/estimate: back-of-the-envelope capacity estimates (chapter 2).
 * Assumptions in (YAML, flags or a preset), labelled lines out, each with its
 * formula, the numbers put in and a human rendering; plus the chapter's
 * reference tables.
 */
export {
  ASSUMPTION_FIELDS,
  type Assumptions,
  type FieldKind,
  type FieldSpec,
  type ObjectKind,
  parseAssumptions,
  parseObjectSpec,
  parseObjects,
  type RawAssumptions,
} from "./assumptions.js";
export * from "./constants.js";
export { formatCount, parseCount, parseWholeCount } from "./count.js";
export { formatDuration, parseDuration } from "./duration.js";
export { EstimateError, EstimateErrorCode } from "./errors.js";
export {
  type AssumptionLine,
  type Comparison,
  type Estimate,
  type EstimateOptions,
  estimate,
  estimateLines,
  formatDifference,
  pluralize,
  type Reference,
  type ReferenceFigure,
} from "./estimate.js";
export type { EstimateLine } from "./formulas.js";
export * as formulas from "./formulas.js";
export { formatPercent, parseFraction, parseRatio } from "./fraction.js";
export { DEFAULT_HUMAN_OPTIONS, Human, type HumanOptions, type LineUnit } from "./human.js";
export { fieldToFlag, mergeAssumptions, parseAssumptionsYaml } from "./input.js";
export { formatGrouped, formatSignificant } from "./number-text.js";
export { findPreset, PRESETS, type Preset } from "./presets.js";
export {
  renderEstimateJson,
  renderEstimateText,
  renderTableJson,
  renderTableText,
} from "./render.js";
export { type EstimateRequest, type EstimateResult, runEstimateRequest } from "./request.js";
export { formatBitRate, formatSize, parseSize, type SizeUnits } from "./size.js";
export {
  availabilityTable,
  downtimeSeconds,
  formatLatency,
  latencyTable,
  powersOfTwoTable,
  type ReferenceTable,
  referenceTable,
  TABLE_NAMES,
  type TableCell,
  type TableName,
} from "./tables.js";
