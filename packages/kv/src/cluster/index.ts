/**
 * @scaleout/kv/cluster: the distributed core of the key-value store as a
 * deterministic state machine (see README.md in this folder).
 */
export * from "./codec.js";
export * from "./constants.js";
export * from "./dvv.js";
export * from "./errors.js";
export * from "./gossip.js";
export * from "./hints.js";
export * from "./hlc.js";
export * from "./merkle.js";
export * from "./messages.js";
export * from "./node.js";
export * from "./object.js";
export * from "./placement.js";
export * from "./pncounter.js";
export * from "./ring.js";
export * from "./router.js";
export * from "./store.js";
export * from "./transfer.js";
