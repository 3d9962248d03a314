/**
 * @scaleout/kv/cluster-shell: the I/O shell that runs the cluster core
 * (../cluster) as real processes — TCP peer transport with a fault layer,
 * the driver (ticks, lsm persistence, restore), the cluster RESP/HTTP front
 * ends, local clusters of processes, the cluster-aware client, chaos harness.
 */
export * from "./address.js";
export * from "./admin.js";
export * from "./chaos.js";
export * from "./client.js";
export * from "./commands.js";
export * from "./constants.js";
export * from "./driver.js";
export * from "./durable.js";
export * from "./errors.js";
export * from "./http.js";
export * from "./local-cluster.js";
export * from "./resp-client.js";
export * from "./server.js";
export * from "./transport.js";
