/**
 * Tunables of the cluster core, in one place, each with the reason for its value.
 * Options objects (NodeOptions) default to these; tests and the shell may override.
 */

/**
 * Number of fixed partitions the key space is split into (Dynamo's "strategy 3",
 * Riak's ring size). Keys hash to a partition; a partition's replicas come from
 * the ring. WARNING: part of the cluster's data layout — every node must agree,
 * and changing it re-partitions every key.
 */
export const PARTITION_COUNT = 256;

/**
 * Merkle leaves (buckets) per partition. With 1 M keys over 256 partitions this
 * is ~15 keys per bucket, so a differing bucket costs a few objects to sync.
 * WARNING: both sides of an exchange must use the same value.
 */
export const MERKLE_BUCKETS_PER_PARTITION = 256;

/** Children per inner Merkle node: 256 buckets → 16 inner nodes → 1 root. */
export const MERKLE_FANOUT = 16;

/** Cluster default replication factor, write quorum and read quorum. */
export const DEFAULT_N = 3;
export const DEFAULT_W = 2;
export const DEFAULT_R = 2;

/** A client request fails with a timeout error naming the replies after this. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 1_000;

/**
 * Actors kept in one version vector before pruning. Riak's big_vclock is 50:
 * vectors only hold actors that coordinated writes to one key, so 50 is only
 * reached by very long-lived keys with churned coordinators.
 */
export const VERSION_VECTOR_PRUNE_THRESHOLD = 50;

/** Live siblings on one key before a write is answered with a warning. */
export const SIBLING_WARN_COUNT = 25;

/** Live siblings after which a write that would add one more is refused. */
export const SIBLING_MAX_COUNT = 100;

/** Gossip rounds: each node sends its membership view to this many random peers. */
export const GOSSIP_INTERVAL_MS = 200;
export const GOSSIP_FANOUT = 2;

/** A member whose heartbeat has not advanced for this long is suspected. */
export const SUSPECT_AFTER_MS = 2_000;

/**
 * Distinct members (this node included) that must suspect a member before it is
 * marked down: one slow link alone never takes a node out.
 */
export const DOWN_CONFIRMATIONS = 2;

/** A suspicion report older than this is not counted (reports expire). */
export const SUSPICION_REPORT_TTL_MS = 4_000;

/**
 * Hints older than this are dropped rather than replayed: past the window,
 * Merkle anti-entropy repairs the owner (Cassandra's max_hint_window).
 */
export const HINT_WINDOW_MS = 3 * 60 * 60 * 1_000;

/** Hints one node holds at most (bounds memory and the handoff storm after a long outage). */
export const HINTS_MAX = 1_000_000;

/** Hints replayed per tick to one returning owner (the handoff throttle). */
export const HINT_REPLAY_PER_TICK = 16;

/** Hint replay messages awaiting an ack, per owner (bounds the handoff burst). */
export const HINT_REPLAY_IN_FLIGHT_MAX = 64;

/**
 * Grace period a tombstone must age (by its HLC wall time) before reaping is even
 * considered. Must exceed HINT_WINDOW_MS plus the largest clock skew, so that no
 * hint or delayed message older than the delete can still be delivered.
 */
export const TOMBSTONE_GRACE_MS = 4 * 60 * 60 * 1_000;

/** Messages carrying data older than this (sender HLC) are dropped on arrival. */
export const MAX_MESSAGE_AGE_MS = 60 * 60 * 1_000;

/** One anti-entropy exchange is started at most this often per node (throttle). */
export const ANTI_ENTROPY_INTERVAL_MS = 1_000;

/** Differing buckets synced per exchange (throttle; the rest waits a round). */
export const ANTI_ENTROPY_BUCKETS_PER_EXCHANGE = 32;

/** An exchange with no progress for this long is abandoned. */
export const ANTI_ENTROPY_EXCHANGE_TIMEOUT_MS = 5_000;

/** Tombstones checked for reaping per tick (bounds the reaper's message burst). */
export const REAP_CHECKS_PER_TICK = 16;

/** Objects per transfer batch: ~64 × a few hundred bytes keeps a batch well under a frame. */
export const TRANSFER_BATCH_OBJECTS = 64;

/**
 * Largest transfer window towards one destination, in batches' worth of
 * objects, over all the partitions streaming to it (the throttle; transfer.ts).
 * A join moves ~3/4 of the partitions at once, so the limit must be per
 * destination: with 3 senders the new node has at most 3 × 4 × 64 objects queued.
 */
export const TRANSFER_BATCHES_IN_FLIGHT = 4;

/**
 * Retransmission timeout of a transfer batch before a round trip is measured,
 * and its floor: a batch is sent again only if unacknowledged this long (then
 * the timeout doubles per attempt, up to TRANSFER_RETRY_MAX_MS).
 */
export const TRANSFER_RETRY_MS = 1_000;

/** Ceiling of a transfer batch's backed-off retransmission timeout. */
export const TRANSFER_RETRY_MAX_MS = 30_000;

/**
 * Queueing delay a transfer lane lets build up at its receiver (measured round
 * trip minus the lowest seen; LEDBAT's target is 100 ms for the internet, ours
 * is a LAN): a client request that lands behind transfer batches waits about
 * this long, and the receiver still always has a batch to work on.
 */
export const TRANSFER_QUEUE_DELAY_TARGET_MS = 20;

/** A forwarded or internal request's bookkeeping is bounded by this many entries. */
export const PENDING_REQUESTS_MAX = 10_000;
