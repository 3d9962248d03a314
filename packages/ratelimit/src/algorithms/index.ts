import type { AlgorithmName } from "../policy.js";
import type { Algorithm } from "./algorithm.js";
import { fixedWindow } from "./fixed-window.js";
import { gcra } from "./gcra.js";
import { leakingBucket } from "./leaking-bucket.js";
import { slidingWindowCounter } from "./sliding-window-counter.js";
import { slidingWindowLog } from "./sliding-window-log.js";
import { tokenBucket } from "./token-bucket.js";

export type { Algorithm, Step } from "./algorithm.js";
export { type FixedWindowState, fixedWindow } from "./fixed-window.js";
export { type GcraState, gcra } from "./gcra.js";
export { type LeakingBucketState, leakingBucket } from "./leaking-bucket.js";
export { type SlidingWindowCounterState, slidingWindowCounter } from "./sliding-window-counter.js";
export { type SlidingWindowLogState, slidingWindowLog } from "./sliding-window-log.js";
export { type TokenBucketState, tokenBucket } from "./token-bucket.js";

/** The algorithm for each policy name; state is opaque to callers that dispatch by name. */
export const ALGORITHM_BY_NAME: Record<AlgorithmName, Algorithm<unknown>> = {
  token_bucket: tokenBucket as Algorithm<unknown>,
  leaking_bucket: leakingBucket as Algorithm<unknown>,
  fixed_window: fixedWindow as Algorithm<unknown>,
  sliding_window_log: slidingWindowLog as Algorithm<unknown>,
  sliding_window_counter: slidingWindowCounter as Algorithm<unknown>,
  gcra: gcra as Algorithm<unknown>,
};
