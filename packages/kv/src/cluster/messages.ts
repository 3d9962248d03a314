/**
 * Everything that crosses the state machine's boundary: client requests and
 * replies, peer messages (inside an envelope), and the outputs a step returns.
 *
 * Objects travel as KeyObject values; a real transport encodes them with
 * object.encodeObject (canonical JSON, values base64) and the envelope as JSON,
 * length-prefixed. Every peer message is bounded by the sender's limits and
 * checked on arrival (see node.ts: MESSAGE_OBJECTS_MAX).
 */
import type { Dot } from "./dvv.js";
import type { GossipMessage } from "./gossip.js";
import type { HlcTimestamp } from "./hlc.js";
import type { KeyObject } from "./object.js";
import type { NodeId } from "./placement.js";

// ----------------------------------------------------------------------------
// Client side
// ----------------------------------------------------------------------------

export interface QuorumOptions {
  /** Replicas (default: the cluster's N). */
  readonly n?: number;
  /** Write acknowledgements to wait for (default W). */
  readonly w?: number;
  /** Read replies to wait for (default R). */
  readonly r?: number;
  readonly timeoutMs?: number;
  /**
   * quorum (default): W/R count replies from every replica. localQuorum: they
   * count only replicas in the coordinator's data center, and must be a majority
   * of those; remote-DC replicas still get every write, asynchronously.
   */
  readonly consistency?: "quorum" | "localQuorum";
}

export type ClientRequest =
  | ({ readonly kind: "get"; readonly requestId: string; readonly key: string } & QuorumOptions)
  | ({
      readonly kind: "put";
      readonly requestId: string;
      readonly key: string;
      readonly value: Uint8Array;
      /** Opaque context from an earlier read (KV.PUT); null: a blind write. */
      readonly context: string | null;
      /**
       * Redis SET semantics: also supersede every version the coordinator's
       * replica holds (its local context joins the given one).
       */
      readonly supersedeVisible: boolean;
    } & QuorumOptions)
  | ({
      readonly kind: "delete";
      readonly requestId: string;
      readonly key: string;
      readonly context: string | null;
      readonly supersedeVisible: boolean;
    } & QuorumOptions)
  | ({
      readonly kind: "incr";
      readonly requestId: string;
      readonly key: string;
      /** Added to the PN-counter; negative for DECR. */
      readonly delta: number;
    } & QuorumOptions);

export interface SiblingView {
  readonly value: Uint8Array;
  readonly hlc: HlcTimestamp;
}

export type ClientReply =
  | {
      readonly kind: "read";
      readonly requestId: string;
      readonly key: string;
      /** Live siblings (tombstones left out), oldest first. */
      readonly siblings: readonly SiblingView[];
      /** Redis GET: the newest sibling by HLC (or the count), null when absent. */
      readonly newest: Uint8Array | null;
      /** The PN-counter's visible value, when the key has been incremented. */
      readonly count: number | null;
      /** Opaque: pass to put/delete to supersede what this read saw. */
      readonly context: string;
      readonly replied: number;
    }
  | {
      readonly kind: "written";
      readonly requestId: string;
      readonly key: string;
      /** The event this write created (for tests and debugging). */
      readonly dot: Dot;
      /** The context the write superseded (opaque encoding). */
      readonly superseded: string;
      /** The key's context after the write at the coordinator. */
      readonly context: string;
      /** INCR/DECR: the count at the coordinator after the increment. */
      readonly count: number | null;
      readonly acknowledged: number;
      readonly warning: string | null;
    }
  | {
      readonly kind: "error";
      readonly requestId: string;
      readonly key: string;
      readonly code: string;
      readonly message: string;
      /** Replicas that answered before the error (timeouts). */
      readonly replied: number;
      /** For NOT_REPLICA: the key's home replicas, to retry on. */
      readonly replicas: readonly NodeId[];
    };

// ----------------------------------------------------------------------------
// Peer messages
// ----------------------------------------------------------------------------

export type KeyedObject = readonly [key: string, object: KeyObject];

export type PeerMessage =
  | GossipMessage
  /** Coordinator → replica: merge this object (hintFor: keep it as a hint). */
  | {
      readonly type: "replicate";
      readonly opId: string;
      readonly key: string;
      readonly object: KeyObject;
      readonly hintFor: NodeId | null;
    }
  | { readonly type: "replicateAck"; readonly opId: string }
  | { readonly type: "read"; readonly opId: string; readonly key: string }
  | { readonly type: "readReply"; readonly opId: string; readonly object: KeyObject | null }
  /** Read repair: merge this (a join of the replies), no reply. */
  | { readonly type: "repair"; readonly key: string; readonly object: KeyObject }
  /** Hinted handoff: a fallback hands the owner its hinted copy. */
  | { readonly type: "hintReplay"; readonly key: string; readonly object: KeyObject }
  | { readonly type: "hintAck"; readonly key: string; readonly digest: string }
  /** Anti-entropy, step 1: the initiator's root and inner hashes for a partition. */
  | {
      readonly type: "aeInner";
      readonly exchangeId: string;
      readonly partition: number;
      readonly root: string;
      readonly inner: readonly string[];
    }
  /** Step 2: the responder's leaf hashes under each differing inner node (empty: in sync). */
  | {
      readonly type: "aeLeaves";
      readonly exchangeId: string;
      readonly partition: number;
      readonly leaves: readonly { readonly inner: number; readonly hashes: readonly string[] }[];
    }
  /** Step 3: the initiator's key digests for (some of) the differing buckets. */
  | {
      readonly type: "aeBucketDigests";
      readonly exchangeId: string;
      readonly partition: number;
      readonly buckets: readonly {
        readonly bucket: number;
        readonly digests: readonly (readonly [key: string, digest: string])[];
      }[];
    }
  /** Step 4: objects the initiator lacks or holds differently, and the keys wanted back. */
  | {
      readonly type: "aeBucketReply";
      readonly exchangeId: string;
      readonly partition: number;
      readonly objects: readonly KeyedObject[];
      readonly wanted: readonly string[];
    }
  /** Step 5: the wanted objects (no reply). */
  | {
      readonly type: "aeObjects";
      readonly exchangeId: string;
      readonly partition: number;
      readonly objects: readonly KeyedObject[];
    }
  /** Tombstone reaping: does the replica hold exactly this tombstone? */
  | { readonly type: "reapCheck"; readonly key: string; readonly digest: string }
  | {
      readonly type: "reapCheckReply";
      readonly key: string;
      readonly digest: string;
      readonly holds: boolean;
    }
  /** Remove the key if it is still exactly this tombstone. */
  | { readonly type: "reap"; readonly key: string; readonly digest: string }
  /** Ownership transfer, step 1: which of the receiver's buckets of the partition differ? */
  | { readonly type: "transferProbe"; readonly transferId: string; readonly partition: number }
  /** The receiver's Merkle leaf hashes of the partition (MERKLE_BUCKETS_PER_PARTITION of them). */
  | {
      readonly type: "transferLeaves";
      readonly transferId: string;
      readonly partition: number;
      readonly leaves: readonly string[];
    }
  /** Ownership transfer of a partition (the differing buckets' keys), in paced batches. */
  | {
      readonly type: "transferBatch";
      readonly transferId: string;
      readonly partition: number;
      readonly sequence: number;
      readonly objects: readonly KeyedObject[];
      readonly totalKeys: number;
    }
  | { readonly type: "transferAck"; readonly transferId: string; readonly sequence: number }
  | ForwardMessage;

/** Messages a node uses to pass a client request to a home replica and relay its reply. */
export type ForwardMessage =
  | { readonly type: "forward"; readonly forwardId: string; readonly request: ClientRequest }
  | { readonly type: "forwardReply"; readonly forwardId: string; readonly reply: ClientReply };

export interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's HLC at send time: receivers observe it, and drop stale data. */
  readonly hlc: HlcTimestamp;
  readonly message: PeerMessage;
}

// ----------------------------------------------------------------------------
// Outputs of one step. The shell must make `persist` outputs durable before it
// sends the `send` and `reply` outputs of the same step (an ack means stored).
// ----------------------------------------------------------------------------

export type Output =
  | { readonly kind: "send"; readonly envelope: Envelope }
  | { readonly kind: "reply"; readonly reply: ClientReply }
  /** Store (object) or remove (null) a key in the node's durable engine. */
  | { readonly kind: "persist"; readonly key: string; readonly object: KeyObject | null }
  /** The actor epoch changed (data was dropped): persist it, restore it on start. */
  | { readonly kind: "persistEpoch"; readonly epoch: number }
  | {
      readonly kind: "log";
      readonly level: "info" | "warn";
      readonly message: string;
    };
