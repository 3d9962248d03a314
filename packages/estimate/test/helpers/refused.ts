import { EstimateError } from "@scaleout/estimate";

/** Runs `action`, expecting an EstimateError; returns it for inspection. */
export function refused(action: () => unknown): EstimateError {
  try {
    action();
  } catch (error) {
    if (error instanceof EstimateError) return error;
    throw error;
  }
  throw new Error("expected an EstimateError");
}
