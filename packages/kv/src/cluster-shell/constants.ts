/**
 * Tunables of the cluster I/O shell (transport, driver, admin), in one place.
 * The core's own tunables live in ../cluster/constants.ts.
 */

/** How often the driver calls ClusterNode.tick (the core expects ~10 ms). */
export const TICK_INTERVAL_MS = 10;

/** Reconnect backoff to a peer: starts here, doubles per failure, capped. */
export const RECONNECT_BACKOFF_MIN_MS = 50;
export const RECONNECT_BACKOFF_MAX_MS = 2_000;

/**
 * Frames queued for a peer while its connection is down or its socket buffer
 * is full. Beyond this the frame is dropped: every core protocol retries or
 * tolerates loss (quorum timeouts, hint replay, anti-entropy), and an unbounded
 * queue to a paused (SIGSTOP) peer would eat the heap.
 */
export const PEER_QUEUE_MAX_BYTES = 16 * 1024 * 1024;

/** Unflushed bytes on a peer socket above which new frames queue (then drop). */
export const PEER_SOCKET_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** Largest hello frame (the first frame of a peer connection). */
export const HELLO_MAX_BYTES = 4_096;

/** Incoming peer connections accepted at once. */
export const PEER_CONNECTIONS_MAX = 1_024;

/** A peer connection that sends no hello within this long is closed. */
export const HELLO_TIMEOUT_MS = 5_000;

/** How long a starting node keeps trying its --join seeds before giving up. */
export const JOIN_TIMEOUT_MS = 60_000;
/** Pause between rounds of seed probes. */
export const JOIN_RETRY_MS = 250;

/** The member list is persisted (for restarts without seeds) at most this often. */
export const MEMBERS_PERSIST_INTERVAL_MS = 1_000;

/**
 * Safety net over the core's own request deadline: a client request with no
 * reply after its timeout plus this margin is answered with a timeout error.
 */
export const REQUEST_REPLY_MARGIN_MS = 5_000;

/** Version of the peer protocol spoken in the hello frame. */
export const PEER_PROTOCOL = "scaleout-kv-peer/1";

/** Local ports of `scaleout kv up`: node i (1-based) uses base + i - 1. */
export const UP_RESP_PORT_BASE = 7001;
export const UP_HTTP_PORT_BASE = 8001;
export const UP_PEER_PORT_BASE = 7101;
export const UP_DEFAULT_NODES = 3;
/** How long `kv up` waits for a node process to become ready. */
export const UP_READY_TIMEOUT_MS = 30_000;
/** How long `kv up` waits for its node processes to exit after SIGTERM before SIGKILL. */
export const UP_STOP_TIMEOUT_MS = 15_000;
