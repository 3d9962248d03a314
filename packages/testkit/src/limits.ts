/** Tunables of the testkit, in one place. */

/** Test servers bind the loopback interface only (house rule). */
export const LOOPBACK = "127.0.0.1";

/** How long a started process may take to accept connections. Generous: CI has two busy cores. */
export const START_TIMEOUT_MS = 15_000;

/** Pause between readiness probes. */
export const POLL_INTERVAL_MS = 25;

/** How long one readiness probe (connect, PING, reply) may take. */
export const PROBE_TIMEOUT_MS = 1_000;

/** How long a process has to exit after SIGTERM before it gets SIGKILL. */
export const STOP_GRACE_MS = 15_000;

/** How long a one-shot CLI run (runCliSync) may take before it is killed. */
export const RUN_TIMEOUT_MS = 60_000;

/** Output kept from a CLI run (execFile's maxBuffer). */
export const RUN_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
