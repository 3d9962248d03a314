/**
 * ClusterNode: one node of the Dynamo-style cluster as a deterministic state
 * machine. Three inputs — a client request, a peer message, a tick — each
 * carrying the node's physical time; each returns the outputs to act on
 * (messages to send, records to persist, client replies, log lines). It reads
 * no clock, opens no socket and sets no timer; randomness comes from the
 * injected generator. The same code runs under the simulation and the real
 * I/O shell.
 *
 * Parts (each described in README.md):
 *   - coordination: N/W/R quorums, sloppy quorum with hinted handoff,
 *     read repair;
 *   - versioning: dotted version vectors, HLC "newest", PN-counters;
 *   - gossip membership and failure detection (gossip.ts);
 *   - Merkle anti-entropy per partition (merkle.ts), throttled;
 *   - tombstone reaping after every replica holds the tombstone and a grace;
 *   - ownership transfer when the ring changes (transfer.ts).
 */
import {
  ANTI_ENTROPY_BUCKETS_PER_EXCHANGE,
  ANTI_ENTROPY_EXCHANGE_TIMEOUT_MS,
  ANTI_ENTROPY_INTERVAL_MS,
  DEFAULT_N,
  DEFAULT_R,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_W,
  HINT_REPLAY_IN_FLIGHT_MAX,
  HINT_REPLAY_PER_TICK,
  HINT_WINDOW_MS,
  HINTS_MAX,
  MAX_MESSAGE_AGE_MS,
  MERKLE_BUCKETS_PER_PARTITION,
  MERKLE_FANOUT,
  PARTITION_COUNT,
  PENDING_REQUESTS_MAX,
  REAP_CHECKS_PER_TICK,
  SIBLING_MAX_COUNT,
  SIBLING_WARN_COUNT,
  TOMBSTONE_GRACE_MS,
  VERSION_VECTOR_PRUNE_THRESHOLD,
} from "./constants.js";
import {
  type ActorId,
  applyWrite,
  decodeContext,
  EMPTY_VV,
  encodeContext,
  joinVectors,
  lastWriteWins,
  pruneVector,
  type Sibling,
  type VersionVector,
} from "./dvv.js";
import { ClusterError, ClusterErrorCode } from "./errors.js";
import { type GossipOptions, type MemberState, Membership, type Random } from "./gossip.js";
import type { HintStore } from "./hints.js";
import { HybridLogicalClock } from "./hlc.js";
import { differingInner, MERKLE_INNER_COUNT } from "./merkle.js";
import type {
  ClientReply,
  ClientRequest,
  Envelope,
  KeyedObject,
  Output,
  PeerMessage,
} from "./messages.js";
import {
  actorsOf,
  type ConflictMode,
  deletedAt,
  EMPTY_OBJECT,
  isDeleted,
  type KeyObject,
  mergeObjects,
  objectContext,
  objectDigest,
  resolveNewest,
  visibleCount,
} from "./object.js";
import {
  locateKey,
  type NodeId,
  PartitionTable,
  planPartitionMoves,
  type RingFactory,
  selectTargets,
  type Target,
} from "./placement.js";
import { incrementCounter } from "./pncounter.js";
import { ReplicaStore } from "./store.js";
import {
  DEFAULT_TRANSFER_OPTIONS,
  type LaneView,
  OutgoingTransfer,
  pumpLane,
  type TransferBatch,
  TransferLane,
  type TransferOptions,
  type TransferProgress,
} from "./transfer.js";

/** Objects one anti-entropy or transfer message may carry (a bound on every message). */
export const MESSAGE_OBJECTS_MAX = 1_000;

/**
 * Forwarded request ids remembered for duplicate suppression. At 10 k requests/s
 * through forwarding this covers 10 s, far beyond any message delay we accept.
 */
export const FORWARDS_REMEMBERED = 100_000;

/** Error code for a request sent to a node that is not one of the key's home replicas. */
export const NOT_REPLICA = "SCALEOUT_ERR_KV_NOT_REPLICA";

export interface NodeTuning {
  readonly n: number;
  readonly w: number;
  readonly r: number;
  readonly requestTimeoutMs: number;
  readonly hintWindowMs: number;
  readonly hintReplayPerTick: number;
  readonly hintReplayInFlightMax: number;
  readonly hintReplayRetryMs: number;
  /** Hints one node keeps at most; past it, it refuses to stand in for more owners. */
  readonly hintsMax: number;
  readonly tombstoneGraceMs: number;
  readonly maxMessageAgeMs: number;
  readonly antiEntropyIntervalMs: number;
  readonly antiEntropyBucketsPerExchange: number;
  readonly antiEntropyExchangeTimeoutMs: number;
  readonly reapChecksPerTick: number;
  readonly siblingWarnCount: number;
  readonly siblingMaxCount: number;
  readonly versionVectorPruneThreshold: number;
  readonly transfer: TransferOptions;
  readonly gossip: Partial<GossipOptions>;
}

export const DEFAULT_TUNING: NodeTuning = {
  n: DEFAULT_N,
  w: DEFAULT_W,
  r: DEFAULT_R,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  hintWindowMs: HINT_WINDOW_MS,
  hintReplayPerTick: HINT_REPLAY_PER_TICK,
  hintReplayInFlightMax: HINT_REPLAY_IN_FLIGHT_MAX,
  hintReplayRetryMs: 1_000,
  hintsMax: HINTS_MAX,
  tombstoneGraceMs: TOMBSTONE_GRACE_MS,
  maxMessageAgeMs: MAX_MESSAGE_AGE_MS,
  antiEntropyIntervalMs: ANTI_ENTROPY_INTERVAL_MS,
  antiEntropyBucketsPerExchange: ANTI_ENTROPY_BUCKETS_PER_EXCHANGE,
  antiEntropyExchangeTimeoutMs: ANTI_ENTROPY_EXCHANGE_TIMEOUT_MS,
  reapChecksPerTick: REAP_CHECKS_PER_TICK,
  siblingWarnCount: SIBLING_WARN_COUNT,
  siblingMaxCount: SIBLING_MAX_COUNT,
  versionVectorPruneThreshold: VERSION_VECTOR_PRUNE_THRESHOLD,
  transfer: DEFAULT_TRANSFER_OPTIONS,
  gossip: {},
};

export interface MemberConfig {
  readonly id: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly weight: number;
}

export interface NodeOptions extends MemberConfig {
  /** Bumped by the shell on every start (persisted): orders restarts in gossip. */
  readonly generation: number;
  /** The actor epoch restored from the last persistEpoch output (0 on a new data dir). */
  readonly epoch: number;
  /** Nodes to gossip with until they answer (join through seeds). */
  readonly seeds: readonly NodeId[];
  /** Members known from configuration at start (a bootstrap cluster); may be empty. */
  readonly initialMembers: readonly MemberConfig[];
  readonly mode: ConflictMode;
  readonly ringFactory: RingFactory;
  readonly hintStore: HintStore;
  readonly random: Random;
  readonly tuning?: Partial<NodeTuning>;
}

interface PendingWrite {
  readonly kind: "write";
  readonly requestId: string;
  readonly key: string;
  readonly needed: number;
  /** Replicas whose acks count (localQuorum: the coordinator's DC); null: all. */
  readonly counted: ReadonlySet<NodeId> | null;
  readonly targets: readonly Target[];
  readonly acked: Set<NodeId>;
  readonly deadlineMs: number;
  readonly reply: Extract<ClientReply, { kind: "written" }>;
}

interface PendingRead {
  readonly kind: "read";
  readonly requestId: string;
  readonly key: string;
  readonly needed: number;
  readonly counted: ReadonlySet<NodeId> | null;
  readonly targets: readonly Target[];
  readonly replies: Map<NodeId, KeyObject | null>;
  readonly deadlineMs: number;
  answered: boolean;
}

interface Exchange {
  readonly exchangeId: string;
  readonly partition: number;
  readonly peer: NodeId;
  readonly startedAtMs: number;
}

interface PendingReap {
  readonly digest: string;
  readonly waiting: Set<NodeId>;
  readonly startedAtMs: number;
}

interface IncomingTransfer {
  readonly from: NodeId;
  readonly partition: number;
  keysReceived: number;
  keysTotal: number;
  lastAtMs: number;
}

export interface NodeCounters {
  readRepairs: number;
  hintsStored: number;
  hintsReplayed: number;
  hintsExpired: number;
  antiEntropyExchanges: number;
  antiEntropyInSync: number;
  antiEntropyBucketsSynced: number;
  antiEntropyKeysRepaired: number;
  tombstonesReaped: number;
  transfersCompleted: number;
  /** Objects sent in transfer batches, retransmissions included. */
  keysStreamed: number;
  /** Of keysStreamed: objects sent again because their batch timed out. */
  keysResent: number;
  staleMessagesDropped: number;
}

export interface MemberView {
  readonly id: NodeId;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly status: string;
  readonly up: boolean;
  readonly heartbeat: number;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly actor: ActorId;
  readonly mode: ConflictMode;
  readonly members: readonly MemberView[];
  /** Partitions this node is a home replica of, out of PARTITION_COUNT. */
  readonly partitionsOwned: number;
  readonly keys: number;
  readonly hintBacklog: readonly { readonly owner: NodeId; readonly hints: number }[];
  readonly antiEntropy: {
    readonly exchanging: { readonly partition: number; readonly peer: NodeId } | null;
    /** Next partition in the round-robin, and full passes over all partitions so far. */
    readonly partitionCursor: number;
    readonly passesCompleted: number;
    readonly lastPassCompletedAtMs: number | null;
  };
  readonly transfersOut: readonly TransferProgress[];
  /** Pacing per destination of the outgoing transfers: window, round trip, timeouts. */
  readonly transferLanes: readonly LaneView[];
  readonly transfersIn: readonly {
    readonly from: NodeId;
    readonly partition: number;
    readonly keysReceived: number;
    readonly keysTotal: number;
  }[];
  readonly pendingRequests: number;
  readonly counters: Readonly<NodeCounters>;
}

export class ClusterNode {
  readonly id: NodeId;
  readonly mode: ConflictMode;
  readonly store: ReplicaStore;
  readonly membership: Membership;
  private readonly tuning: NodeTuning;
  private readonly hints: HintStore;
  private readonly random: Random;
  private readonly ringFactory: RingFactory;
  private readonly clock = new HybridLogicalClock();
  private epoch: number;
  private readonly generation: number;
  private dotCounter = 0;
  private nextOpId = 0;
  private table: PartitionTable;
  private ringSignature = "";
  private ringChangedAtMs: number;
  private readonly pending = new Map<string, PendingWrite | PendingRead>();
  private readonly hintsInFlight = new Map<string, number>();
  private exchange: Exchange | null = null;
  private nextExchangeAtMs = 0;
  private partitionCursor = 0;
  private antiEntropyPasses = 0;
  private lastPassCompletedAtMs: number | null = null;
  private peerCursor = 0;
  private readonly reaping = new Map<string, PendingReap>();
  private readonly reapBackoffUntil = new Map<string, number>();
  private readonly transfersOut = new Map<string, OutgoingTransfer>();
  private readonly transferLanes = new Map<NodeId, TransferLane>();
  private readonly transfersIn = new Map<string, IncomingTransfer>();
  private nextStrayCheckAtMs = 0;
  private nextReapAtMs = 0;
  /** Requests this node passed to a home replica: forwardId → the client's request. */
  private readonly forwardsOut = new Map<
    string,
    {
      readonly requestId: string;
      readonly key: string;
      readonly to: NodeId;
      readonly deadlineMs: number;
    }
  >();
  /** Requests coordinated here for another node: forwardId → that node. */
  private readonly forwardsIn = new Map<string, NodeId>();
  /** Forward ids already handled, oldest first (bounded): duplicates are ignored. */
  private readonly forwardsSeen = new Set<string>();
  readonly counters: NodeCounters = {
    readRepairs: 0,
    hintsStored: 0,
    hintsReplayed: 0,
    hintsExpired: 0,
    antiEntropyExchanges: 0,
    antiEntropyInSync: 0,
    antiEntropyBucketsSynced: 0,
    antiEntropyKeysRepaired: 0,
    tombstonesReaped: 0,
    transfersCompleted: 0,
    keysStreamed: 0,
    keysResent: 0,
    staleMessagesDropped: 0,
  };

  constructor(options: NodeOptions, nowMs: number) {
    this.id = options.id;
    this.mode = options.mode;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    assertQuorum(this.tuning.n, this.tuning.w, this.tuning.r, this.tuning.n);
    this.hints = options.hintStore;
    this.random = options.random;
    this.ringFactory = options.ringFactory;
    this.epoch = options.epoch;
    this.generation = options.generation;
    this.store = new ReplicaStore(options.mode);
    this.membership = new Membership(
      {
        id: options.id,
        address: options.address,
        dc: options.dc,
        rack: options.rack,
        weight: options.weight,
        generation: options.generation,
      },
      options.seeds,
      nowMs,
      this.tuning.gossip,
    );
    for (const member of options.initialMembers) {
      if (member.id !== options.id) this.membership.addKnown({ ...member, generation: 0 }, nowMs);
    }
    const members = this.membership.ringMembers();
    this.table = new PartitionTable(this.ringFactory(members), this.tuning.n, members);
    this.ringSignature = JSON.stringify(this.membership.ringMembers());
    this.ringChangedAtMs = nowMs;
  }

  /** This node's current actor id: node, generation and epoch (see dvv.ts). */
  get actor(): ActorId {
    return `${this.id}:${this.generation}.${this.epoch}`;
  }

  /**
   * Load a persisted object at start, before any other input. `encoded`: the
   * stored encodeObject(object) text, if at hand (saves re-encoding it).
   */
  restore(key: string, object: KeyObject, encoded?: string): void {
    this.store.restore(key, object, encoded);
  }

  homeReplicas(key: string): NodeId[] {
    return this.table.home(locateKey(key).partition);
  }

  partitionHome(partition: number): NodeId[] {
    return this.table.home(partition);
  }

  isUp(id: NodeId, nowMs: number): boolean {
    return id === this.id || this.membership.isUp(id, nowMs);
  }

  /** Start leaving: the ring drops this node and its partitions stream to the new owners. */
  leave(nowMs: number): Output[] {
    const out: Output[] = [];
    this.membership.setSelfStatus("leaving");
    this.refreshRing(nowMs, out);
    return out;
  }

  /** Operator removal of a dead member (replacement): it leaves the ring everywhere. */
  removeMember(id: NodeId, nowMs: number): Output[] {
    const out: Output[] = [];
    this.membership.markLeft(id);
    this.refreshRing(nowMs, out);
    return out;
  }

  // ---------------------------------------------------------------------------
  // Client requests (this node coordinates)
  // ---------------------------------------------------------------------------

  /**
   * A client request. Any node accepts any key: a node that is not one of the
   * key's home replicas forwards it to the first healthy one and relays the
   * reply (a cluster-aware client avoids that hop by routing to a replica).
   */
  request(request: ClientRequest, nowMs: number): Output[] {
    const out: Output[] = [];
    this.coordinateOrReject(request, true, nowMs, out);
    return this.relayForwarded(out, nowMs);
  }

  private coordinateOrReject(
    request: ClientRequest,
    mayForward: boolean,
    nowMs: number,
    out: Output[],
  ): void {
    try {
      this.coordinate(request, mayForward, nowMs, out);
    } catch (error) {
      if (!(error instanceof ClusterError)) throw error;
      out.push(replyError(request, error.code, error.message, 0, []));
    }
  }

  /** Replies to forwarded requests go back to the forwarding node as messages. */
  private relayForwarded(out: Output[], nowMs: number): Output[] {
    if (this.forwardsIn.size === 0) return out;
    const relayed: Output[] = [];
    for (const output of out) {
      const origin =
        output.kind === "reply" ? this.forwardsIn.get(output.reply.requestId) : undefined;
      if (output.kind !== "reply" || origin === undefined) {
        relayed.push(output);
        continue;
      }
      this.forwardsIn.delete(output.reply.requestId);
      this.send(relayed, origin, nowMs, {
        type: "forwardReply",
        forwardId: output.reply.requestId,
        reply: output.reply,
      });
    }
    return relayed;
  }

  private coordinate(
    request: ClientRequest,
    mayForward: boolean,
    nowMs: number,
    out: Output[],
  ): void {
    const n = request.n ?? this.tuning.n;
    const w = request.w ?? Math.min(this.tuning.w, n);
    const r = request.r ?? Math.min(this.tuning.r, n);
    assertQuorum(n, w, r, this.tuning.n);
    const { partition } = locateKey(request.key);
    const home = this.table.home(partition);
    if (!home.includes(this.id)) {
      const to = home.find((id) => this.isUp(id, nowMs));
      if (mayForward && to !== undefined && this.forwardsOut.size < PENDING_REQUESTS_MAX) {
        const forwardId = this.newOpId();
        const timeoutMs = request.timeoutMs ?? this.tuning.requestTimeoutMs;
        // The coordinator times out first and says why; this deadline covers a lost relay.
        this.forwardsOut.set(forwardId, {
          requestId: request.requestId,
          key: request.key,
          to,
          deadlineMs: nowMs + 2 * timeoutMs,
        });
        this.send(out, to, nowMs, {
          type: "forward",
          forwardId,
          request: { ...request, requestId: forwardId },
        });
        return;
      }
      out.push(
        replyError(
          request,
          NOT_REPLICA,
          `this node is not a replica of "${request.key}": send it to one of ${home.join(", ")}`,
          0,
          home,
        ),
      );
      return;
    }
    if (this.pending.size >= PENDING_REQUESTS_MAX) {
      throw new ClusterError(
        ClusterErrorCode.OVERLOADED,
        `${this.pending.size} requests in flight on this coordinator (limit ${PENDING_REQUESTS_MAX})`,
      );
    }
    // The ring lists every node: the first N are home replicas, the rest fallbacks.
    const targets = selectTargets(this.table.order(partition), n, (id) => this.isUp(id, nowMs));
    let needed = request.kind === "get" ? r : w;
    let counted: Set<NodeId> | null = null;
    if (request.consistency === "localQuorum") {
      const dc = this.membership.self().dc;
      counted = new Set(
        targets.filter((t) => this.membership.member(t.node)?.dc === dc).map((t) => t.node),
      );
      needed = Math.floor(counted.size / 2) + 1;
    }
    const available = counted === null ? targets.length : counted.size;
    if (available < needed) {
      throw new ClusterError(
        ClusterErrorCode.UNAVAILABLE,
        `${request.kind} of "${request.key}" needs ${needed} replicas but only ${available} nodes are up`,
      );
    }
    const timeoutMs = request.timeoutMs ?? this.tuning.requestTimeoutMs;
    if (request.kind === "get") {
      this.startRead(request, targets, needed, counted, nowMs + timeoutMs, nowMs, out);
    } else {
      this.startWrite(request, targets, needed, counted, nowMs + timeoutMs, nowMs, out);
    }
  }

  private startWrite(
    request: Exclude<ClientRequest, { kind: "get" }>,
    targets: readonly Target[],
    needed: number,
    counted: ReadonlySet<NodeId> | null,
    deadlineMs: number,
    nowMs: number,
    out: Output[],
  ): void {
    const key = request.key;
    const local = this.store.get(key) ?? EMPTY_OBJECT;
    const hlc = this.clock.now(nowMs);
    let object: KeyObject;
    let warning: string | null = null;
    let superseded: VersionVector = EMPTY_VV;
    const dot = { actor: this.actor, counter: this.dotCounter + 1 };
    if (request.kind === "incr") {
      if (!Number.isSafeInteger(request.delta)) {
        throw new ClusterError(
          ClusterErrorCode.BAD_DELTA,
          `increment ${request.delta} is not a safe integer`,
        );
      }
      object = {
        ...local,
        counter: incrementCounter(local.counter, this.actor, request.delta),
        counterHlc: hlc,
      };
    } else {
      let context = request.context === null ? EMPTY_VV : decodeContext(request.context);
      if (request.supersedeVisible) context = joinVectors(context, objectContext(local));
      superseded = pruneVector(
        context,
        this.tuning.versionVectorPruneThreshold,
        this.currentActors(key),
      );
      const created: Sibling = {
        dot,
        vv: superseded,
        hlc,
        value: request.kind === "put" ? request.value : null,
      };
      const outcome = applyWrite(key, local.siblings, created, {
        warnCount: this.tuning.siblingWarnCount,
        maxCount: this.tuning.siblingMaxCount,
      });
      warning = outcome.warning;
      object = {
        ...local,
        siblings: this.mode === "lww" ? lastWriteWins(outcome.siblings) : outcome.siblings,
      };
      if (request.kind === "delete") {
        // The delete resets the count as this coordinator sees it (add-wins for the rest).
        object = { ...object, counterFloor: object.counter };
      }
    }
    this.dotCounter += 1;
    this.store.put(key, object, out);
    this.touchTransfers(key);
    if (warning !== null) out.push({ kind: "log", level: "warn", message: warning });
    const reply: Extract<ClientReply, { kind: "written" }> = {
      kind: "written",
      requestId: request.requestId,
      key,
      dot,
      superseded: encodeContext(superseded),
      context: encodeContext(objectContext(object)),
      count: request.kind === "incr" ? visibleCount(object) : null,
      acknowledged: 0,
      warning,
    };
    const opId = this.newOpId();
    const pending: PendingWrite = {
      kind: "write",
      requestId: request.requestId,
      key,
      needed,
      counted,
      targets,
      acked: new Set([this.id]),
      deadlineMs,
      reply,
    };
    for (const target of targets) {
      if (target.node === this.id) continue;
      this.send(out, target.node, nowMs, {
        type: "replicate",
        opId,
        key,
        object,
        hintFor: target.hintFor,
      });
    }
    if (!this.completeWrite(pending, out)) this.pending.set(opId, pending);
  }

  private completeWrite(pending: PendingWrite, out: Output[]): boolean {
    if (countIn(pending.acked, pending.counted) < pending.needed) return false;
    out.push({ kind: "reply", reply: { ...pending.reply, acknowledged: pending.acked.size } });
    return true;
  }

  private startRead(
    request: Extract<ClientRequest, { kind: "get" }>,
    targets: readonly Target[],
    needed: number,
    counted: ReadonlySet<NodeId> | null,
    deadlineMs: number,
    nowMs: number,
    out: Output[],
  ): void {
    const opId = this.newOpId();
    const pending: PendingRead = {
      kind: "read",
      requestId: request.requestId,
      key: request.key,
      needed,
      counted,
      targets,
      replies: new Map([[this.id, this.readLocal(request.key)]]),
      deadlineMs,
      answered: false,
    };
    this.pending.set(opId, pending);
    for (const target of targets) {
      if (target.node === this.id) continue;
      this.send(out, target.node, nowMs, { type: "read", opId, key: request.key });
    }
    this.progressRead(opId, pending, nowMs, out);
  }

  /** Main store merged with any hints held for the key (a fallback answers from hints). */
  private readLocal(key: string): KeyObject | null {
    let object = this.store.get(key) ?? null;
    for (const hint of this.hints.forKey(key)) {
      object = mergeObjects(object ?? EMPTY_OBJECT, hint.object, this.mode);
    }
    return object;
  }

  private mergedReplies(pending: PendingRead): KeyObject {
    let merged = EMPTY_OBJECT;
    for (const object of pending.replies.values()) {
      if (object !== null) merged = mergeObjects(merged, object, this.mode);
    }
    return merged;
  }

  private progressRead(opId: string, pending: PendingRead, nowMs: number, out: Output[]): void {
    if (!pending.answered && countIn(pending.replies.keys(), pending.counted) >= pending.needed) {
      pending.answered = true;
      out.push({ kind: "reply", reply: this.readReply(pending) });
    }
    const everyone = pending.targets.every((t) => pending.replies.has(t.node));
    if (everyone || (pending.answered && nowMs >= pending.deadlineMs)) {
      this.readRepair(pending, nowMs, out);
      this.pending.delete(opId);
    }
  }

  private readReply(pending: PendingRead): ClientReply {
    const merged = this.mergedReplies(pending);
    const resolved = resolveNewest(merged);
    const live = merged.siblings.filter((s) => s.value !== null);
    return {
      kind: "read",
      requestId: pending.requestId,
      key: pending.key,
      siblings: live.map((s) => ({ value: s.value as Uint8Array, hlc: s.hlc })),
      newest:
        resolved.kind === "value"
          ? resolved.value
          : resolved.kind === "count"
            ? new TextEncoder().encode(String(resolved.count))
            : null,
      count: resolved.kind === "count" ? resolved.count : null,
      context: encodeContext(objectContext(merged)),
      replied: pending.replies.size,
    };
  }

  /**
   * Send the join of the replies to every home replica whose reply differed.
   * A join never brings back a superseded version: it only adds what some
   * replica already had, minus what some replica's context superseded.
   */
  private readRepair(pending: PendingRead, nowMs: number, out: Output[]): void {
    if ([...pending.replies.values()].every((reply) => reply === null)) return;
    const merged = this.mergedReplies(pending);
    const digest = objectDigest(merged);
    for (const target of pending.targets) {
      if (!pending.replies.has(target.node) || target.hintFor !== null) continue;
      const reply = pending.replies.get(target.node) ?? null;
      if (reply !== null && objectDigest(reply) === digest) continue;
      this.counters.readRepairs += 1;
      if (target.node === this.id) {
        if (this.store.merge(pending.key, merged, out)) this.touchTransfers(pending.key);
      } else {
        this.send(out, target.node, nowMs, { type: "repair", key: pending.key, object: merged });
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Peer messages
  // ---------------------------------------------------------------------------

  receive(envelope: Envelope, nowMs: number): Output[] {
    const out: Output[] = [];
    if (envelope.to !== this.id) return out;
    this.clock.observe(envelope.hlc, nowMs);
    const message = envelope.message;
    const from = envelope.from;
    // Data older than the message-age bound could predate a reaped tombstone.
    const stale = envelope.hlc.wallMs < nowMs - this.tuning.maxMessageAgeMs;
    switch (message.type) {
      case "gossip":
        if (this.membership.receive(from, message, nowMs)) this.refreshRing(nowMs, out);
        break;
      case "replicate":
        if (stale) {
          this.counters.staleMessagesDropped += 1;
          break;
        }
        if (message.hintFor !== null && message.hintFor !== this.id) {
          const coalesces = this.hints.get(message.hintFor, message.key) !== undefined;
          if (!coalesces && this.hints.size() >= this.tuning.hintsMax) {
            // Full: no ack, so the write does not count this copy toward its quorum.
            out.push({
              kind: "log",
              level: "warn",
              message: `hint store full (${this.tuning.hintsMax} hints): refused a hint for ${message.hintFor}`,
            });
            break;
          }
          this.hints.add(message.hintFor, message.key, message.object, nowMs, this.mode);
          this.counters.hintsStored += 1;
        } else {
          this.mergeIn(message.key, message.object, out);
        }
        this.send(out, from, nowMs, { type: "replicateAck", opId: message.opId });
        break;
      case "replicateAck": {
        const pending = this.pending.get(message.opId);
        if (pending?.kind !== "write") break;
        if (!pending.targets.some((t) => t.node === from)) break;
        pending.acked.add(from);
        if (this.completeWrite(pending, out)) this.pending.delete(message.opId);
        break;
      }
      case "read":
        this.send(out, from, nowMs, {
          type: "readReply",
          opId: message.opId,
          object: this.readLocal(message.key),
        });
        break;
      case "readReply": {
        const pending = this.pending.get(message.opId);
        if (pending?.kind !== "read") break;
        if (!pending.targets.some((t) => t.node === from)) break;
        pending.replies.set(from, message.object);
        this.progressRead(message.opId, pending, nowMs, out);
        break;
      }
      case "repair":
        if (stale) this.counters.staleMessagesDropped += 1;
        else this.mergeIn(message.key, message.object, out);
        break;
      case "hintReplay":
        if (stale) {
          this.counters.staleMessagesDropped += 1;
          break;
        }
        this.mergeIn(message.key, message.object, out);
        this.send(out, from, nowMs, {
          type: "hintAck",
          key: message.key,
          digest: objectDigest(message.object),
        });
        break;
      case "hintAck":
        this.hintsInFlight.delete(`${from}\u0000${message.key}`);
        if (this.hints.removeIfDigest(from, message.key, message.digest))
          this.counters.hintsReplayed += 1;
        break;
      case "aeInner":
        this.onAeInner(from, message, nowMs, out);
        break;
      case "aeLeaves":
        this.onAeLeaves(from, message, nowMs, out);
        break;
      case "aeBucketDigests":
        this.onAeBucketDigests(from, message, nowMs, out);
        break;
      case "aeBucketReply":
        if (this.exchange?.exchangeId !== message.exchangeId || stale) break;
        this.mergeMany(message.objects, out);
        this.send(out, from, nowMs, {
          type: "aeObjects",
          exchangeId: message.exchangeId,
          partition: message.partition,
          objects: this.objectsFor(message.wanted.slice(0, MESSAGE_OBJECTS_MAX)),
        });
        this.exchange = null;
        break;
      case "aeObjects":
        if (!stale) this.mergeMany(message.objects, out);
        break;
      case "reapCheck":
        this.send(out, from, nowMs, {
          type: "reapCheckReply",
          key: message.key,
          digest: message.digest,
          holds:
            this.store.digest(message.key) === message.digest &&
            this.hints.forKey(message.key).length === 0,
        });
        break;
      case "reapCheckReply":
        this.onReapCheckReply(from, message.key, message.digest, message.holds, nowMs, out);
        break;
      case "reap":
        if (this.store.digest(message.key) === message.digest) {
          this.store.remove(message.key, out);
          this.counters.tombstonesReaped += 1;
        }
        break;
      case "transferProbe": {
        const tree = this.store.tree(message.partition);
        this.send(out, from, nowMs, {
          type: "transferLeaves",
          transferId: message.transferId,
          partition: message.partition,
          leaves: Array.from({ length: MERKLE_BUCKETS_PER_PARTITION }, (_, b) => tree.leafHash(b)),
        });
        break;
      }
      case "transferLeaves": {
        // transfersOut is keyed by partition and destination (startTransfer).
        const transfer = this.transfersOut.get(`${message.partition}/${from}`);
        if (transfer?.transferId !== message.transferId || !transfer.isProbing) break;
        // Stream only the buckets whose hash differs (all of them for a new owner).
        const tree = this.store.tree(transfer.partition);
        const keys: string[] = [];
        for (let bucket = 0; bucket < MERKLE_BUCKETS_PER_PARTITION; bucket += 1) {
          if (message.leaves[bucket] !== tree.leafHash(bucket))
            keys.push(...this.store.keysInBucket(transfer.partition, bucket));
        }
        transfer.startStreaming(keys);
        this.pumpLane(transfer.to, nowMs, out);
        break;
      }
      case "transferBatch": {
        if (stale) break;
        this.mergeMany(message.objects.slice(0, MESSAGE_OBJECTS_MAX), out);
        const incoming = this.transfersIn.get(message.transferId) ?? {
          from,
          partition: message.partition,
          keysReceived: 0,
          keysTotal: message.totalKeys,
          lastAtMs: nowMs,
        };
        incoming.keysReceived += message.objects.length;
        incoming.keysTotal = message.totalKeys;
        incoming.lastAtMs = nowMs;
        this.transfersIn.set(message.transferId, incoming);
        this.send(out, from, nowMs, {
          type: "transferAck",
          transferId: message.transferId,
          sequence: message.sequence,
        });
        break;
      }
      case "transferAck": {
        const transfer = [...this.transfersOut.values()].find(
          (t) => t.transferId === message.transferId && t.to === from,
        );
        const ack = transfer?.acknowledge(message.sequence, nowMs);
        if (transfer === undefined || ack === undefined || ack === null) break;
        this.lane(transfer.to).onAcknowledged(ack.roundTripMs);
        // Ack-driven pacing: the freed slot in the window is used at once.
        this.pumpLane(transfer.to, nowMs, out);
        break;
      }
      case "forward":
        // A duplicate delivery must not apply the write twice (INCR is not idempotent).
        if (this.forwardsIn.has(message.forwardId) || this.forwardsSeen.has(message.forwardId))
          break;
        this.forwardsSeen.add(message.forwardId);
        if (this.forwardsSeen.size > FORWARDS_REMEMBERED) {
          const oldest = this.forwardsSeen.values().next().value;
          if (oldest !== undefined) this.forwardsSeen.delete(oldest);
        }
        this.forwardsIn.set(message.forwardId, from);
        this.coordinateOrReject(message.request, false, nowMs, out);
        break;
      case "forwardReply": {
        const forward = this.forwardsOut.get(message.forwardId);
        if (forward === undefined) break;
        this.forwardsOut.delete(message.forwardId);
        out.push({ kind: "reply", reply: { ...message.reply, requestId: forward.requestId } });
        break;
      }
      default: {
        const unknown: never = message;
        void unknown;
      }
    }
    return this.relayForwarded(out, nowMs);
  }

  private mergeIn(key: string, object: KeyObject, out: Output[]): boolean {
    const changed = this.store.merge(key, object, out);
    if (changed) this.touchTransfers(key);
    return changed;
  }

  private mergeMany(objects: readonly KeyedObject[], out: Output[]): number {
    let changed = 0;
    for (const [key, object] of objects.slice(0, MESSAGE_OBJECTS_MAX)) {
      if (this.mergeIn(key, object, out)) changed += 1;
    }
    return changed;
  }

  private objectsFor(keys: readonly string[]): KeyedObject[] {
    const out: KeyedObject[] = [];
    for (const key of keys) {
      const object = this.store.get(key);
      if (object !== undefined) out.push([key, object]);
    }
    return out;
  }

  // ---------------------------------------------------------------------------
  // Ticks: gossip, timeouts, handoff, anti-entropy, reaping, transfers
  // ---------------------------------------------------------------------------

  tick(nowMs: number): Output[] {
    const out: Output[] = [];
    for (const gossip of this.membership.tick(nowMs, this.random)) {
      this.send(out, gossip.to, nowMs, gossip.message);
    }
    this.expireRequests(nowMs, out);
    this.replayHints(nowMs, out);
    this.antiEntropy(nowMs, out);
    this.reap(nowMs, out);
    this.runTransfers(nowMs, out);
    return this.relayForwarded(out, nowMs);
  }

  private expireRequests(nowMs: number, out: Output[]): void {
    for (const [forwardId, forward] of this.forwardsOut) {
      if (nowMs < forward.deadlineMs) continue;
      this.forwardsOut.delete(forwardId);
      out.push(
        replyError(
          forward,
          ClusterErrorCode.TIMEOUT,
          `request for "${forward.key}" forwarded to ${forward.to} got no answer: 0 replicas replied`,
          0,
          [],
        ),
      );
    }
    for (const [opId, pending] of this.pending) {
      if (nowMs < pending.deadlineMs) continue;
      if (pending.kind === "write") {
        out.push({
          kind: "reply",
          reply: {
            kind: "error",
            requestId: pending.requestId,
            key: pending.key,
            code: ClusterErrorCode.TIMEOUT,
            message:
              `write of "${pending.key}" timed out: ${pending.acked.size} of ${pending.targets.length} ` +
              `replicas acknowledged, ${pending.needed} required`,
            replied: pending.acked.size,
            replicas: [],
          },
        });
        this.pending.delete(opId);
      } else if (!pending.answered) {
        out.push({
          kind: "reply",
          reply: {
            kind: "error",
            requestId: pending.requestId,
            key: pending.key,
            code: ClusterErrorCode.TIMEOUT,
            message:
              `read of "${pending.key}" timed out: ${pending.replies.size} of ${pending.targets.length} ` +
              `replicas replied, ${pending.needed} required`,
            replied: pending.replies.size,
            replicas: [],
          },
        });
        this.readRepair(pending, nowMs, out);
        this.pending.delete(opId);
      } else {
        this.progressRead(opId, pending, nowMs, out);
      }
    }
  }

  private replayHints(nowMs: number, out: Output[]): void {
    const expired = this.hints.expire(nowMs - this.tuning.hintWindowMs);
    if (expired > 0) {
      this.counters.hintsExpired += expired;
      out.push({
        kind: "log",
        level: "warn",
        message: `dropped ${expired} hints older than the hint window; anti-entropy repairs their owners`,
      });
    }
    for (const owner of this.hints.owners()) {
      if (!this.isUp(owner, nowMs)) continue;
      let sent = 0;
      let inFlight = 0;
      const candidates = this.hints.oldest(owner, this.tuning.hintReplayInFlightMax);
      for (const hint of candidates) {
        const flightKey = `${owner}\u0000${hint.key}`;
        const sentAtMs = this.hintsInFlight.get(flightKey);
        if (sentAtMs !== undefined && nowMs - sentAtMs < this.tuning.hintReplayRetryMs) {
          inFlight += 1;
          continue;
        }
        if (
          sent >= this.tuning.hintReplayPerTick ||
          inFlight + sent >= this.tuning.hintReplayInFlightMax
        )
          break;
        this.hintsInFlight.set(flightKey, nowMs);
        this.send(out, owner, nowMs, { type: "hintReplay", key: hint.key, object: hint.object });
        sent += 1;
      }
    }
  }

  private antiEntropy(nowMs: number, out: Output[]): void {
    if (this.exchange !== null) {
      if (nowMs - this.exchange.startedAtMs < this.tuning.antiEntropyExchangeTimeoutMs) return;
      this.exchange = null;
    }
    if (nowMs < this.nextExchangeAtMs) return;
    this.nextExchangeAtMs = nowMs + this.tuning.antiEntropyIntervalMs;
    for (let step = 0; step < PARTITION_COUNT; step += 1) {
      const partition = this.partitionCursor;
      this.partitionCursor = (this.partitionCursor + 1) % PARTITION_COUNT;
      if (this.partitionCursor === 0) {
        this.antiEntropyPasses += 1;
        this.lastPassCompletedAtMs = nowMs;
      }
      const home = this.table.home(partition);
      if (!home.includes(this.id)) continue;
      const peers = home.filter((id) => id !== this.id && this.isUp(id, nowMs));
      if (peers.length === 0) continue;
      const peer = peers[this.peerCursor % peers.length]!;
      this.peerCursor += 1;
      const tree = this.store.tree(partition);
      const exchangeId = this.newOpId();
      this.exchange = { exchangeId, partition, peer, startedAtMs: nowMs };
      this.counters.antiEntropyExchanges += 1;
      this.send(out, peer, nowMs, {
        type: "aeInner",
        exchangeId,
        partition,
        root: tree.root(),
        inner: tree.innerHashes(),
      });
      return;
    }
  }

  private onAeInner(
    from: NodeId,
    message: Extract<PeerMessage, { type: "aeInner" }>,
    nowMs: number,
    out: Output[],
  ): void {
    const tree = this.store.tree(message.partition);
    const leaves =
      tree.root() === message.root
        ? []
        : differingInner(tree.innerHashes(), message.inner).map((inner) => ({
            inner,
            hashes: tree.leafHashesUnder(inner),
          }));
    this.send(out, from, nowMs, {
      type: "aeLeaves",
      exchangeId: message.exchangeId,
      partition: message.partition,
      leaves,
    });
  }

  private onAeLeaves(
    from: NodeId,
    message: Extract<PeerMessage, { type: "aeLeaves" }>,
    nowMs: number,
    out: Output[],
  ): void {
    if (this.exchange?.exchangeId !== message.exchangeId) return;
    const tree = this.store.tree(message.partition);
    const buckets: number[] = [];
    for (const { inner, hashes } of message.leaves.slice(0, MERKLE_INNER_COUNT)) {
      if (!Number.isInteger(inner) || inner < 0 || inner >= MERKLE_INNER_COUNT) continue;
      const ours = tree.leafHashesUnder(inner);
      ours.forEach((hash, i) => {
        if (hash !== hashes[i]) buckets.push(inner * MERKLE_FANOUT + i);
      });
    }
    if (buckets.length === 0) {
      this.counters.antiEntropyInSync += 1;
      this.exchange = null;
      return;
    }
    const chosen = buckets.slice(0, this.tuning.antiEntropyBucketsPerExchange);
    this.counters.antiEntropyBucketsSynced += chosen.length;
    this.send(out, from, nowMs, {
      type: "aeBucketDigests",
      exchangeId: message.exchangeId,
      partition: message.partition,
      buckets: chosen.map((bucket) => ({
        bucket,
        digests: this.store
          .keysInBucket(message.partition, bucket)
          .map((key) => [key, this.store.digest(key) ?? ""] as const),
      })),
    });
  }

  private onAeBucketDigests(
    from: NodeId,
    message: Extract<PeerMessage, { type: "aeBucketDigests" }>,
    nowMs: number,
    out: Output[],
  ): void {
    const objects: KeyedObject[] = [];
    const wanted: string[] = [];
    for (const { bucket, digests } of message.buckets.slice(0, MERKLE_BUCKETS_PER_PARTITION)) {
      const theirs = new Map(digests.slice(0, MESSAGE_OBJECTS_MAX));
      for (const key of this.store.keysInBucket(message.partition, bucket)) {
        if (theirs.get(key) !== this.store.digest(key) && objects.length < MESSAGE_OBJECTS_MAX) {
          objects.push([key, this.store.get(key)!]);
        }
      }
      for (const [key, digest] of theirs) {
        if (this.store.digest(key) !== digest && wanted.length < MESSAGE_OBJECTS_MAX)
          wanted.push(key);
      }
    }
    this.counters.antiEntropyKeysRepaired += objects.length + wanted.length;
    this.send(out, from, nowMs, {
      type: "aeBucketReply",
      exchangeId: message.exchangeId,
      partition: message.partition,
      objects,
      wanted,
    });
  }

  /**
   * Reaping: the first home replica of a partition removes a tombstone only when
   * (1) it is older than the grace period, (2) the ring has been stable that
   * long (no transfer can still carry older data), (3) no hint for the key is
   * held here, and (4) every other home replica confirms it holds exactly the
   * same tombstone and no hint for it. Then all remove it if still unchanged.
   */
  private reap(nowMs: number, out: Output[]): void {
    for (const [key, pending] of this.reaping) {
      if (nowMs - pending.startedAtMs > this.tuning.antiEntropyExchangeTimeoutMs)
        this.reaping.delete(key);
    }
    if (nowMs - this.ringChangedAtMs < this.tuning.tombstoneGraceMs) return;
    // Scanning the tombstones is O(tombstones): once per anti-entropy interval, not per tick.
    if (nowMs < this.nextReapAtMs) return;
    this.nextReapAtMs = nowMs + this.tuning.antiEntropyIntervalMs;
    let checks = 0;
    for (const key of this.store.deletedKeys()) {
      if (checks >= this.tuning.reapChecksPerTick) break;
      if (this.reaping.has(key) || (this.reapBackoffUntil.get(key) ?? 0) > nowMs) continue;
      const object = this.store.get(key);
      const at = object === undefined ? null : deletedAt(object);
      if (object === undefined || at === null || at.wallMs + this.tuning.tombstoneGraceMs > nowMs)
        continue;
      const home = this.table.home(locateKey(key).partition);
      if (home[0] !== this.id || this.hints.forKey(key).length > 0) continue;
      const others = home.slice(1);
      if (!others.every((id) => this.isUp(id, nowMs))) continue;
      checks += 1;
      const digest = this.store.digest(key)!;
      if (others.length === 0) {
        this.store.remove(key, out);
        this.counters.tombstonesReaped += 1;
        continue;
      }
      this.reaping.set(key, { digest, waiting: new Set(others), startedAtMs: nowMs });
      for (const id of others) this.send(out, id, nowMs, { type: "reapCheck", key, digest });
    }
  }

  private onReapCheckReply(
    from: NodeId,
    key: string,
    digest: string,
    holds: boolean,
    nowMs: number,
    out: Output[],
  ): void {
    const pending = this.reaping.get(key);
    if (pending === undefined || pending.digest !== digest) return;
    if (!holds) {
      this.reaping.delete(key);
      this.reapBackoffUntil.set(key, nowMs + this.tuning.antiEntropyIntervalMs * 4);
      return;
    }
    pending.waiting.delete(from);
    if (pending.waiting.size > 0) return;
    this.reaping.delete(key);
    this.reapBackoffUntil.delete(key);
    if (this.store.digest(key) !== digest) return;
    for (const id of this.table.home(locateKey(key).partition)) {
      if (id !== this.id) this.send(out, id, nowMs, { type: "reap", key, digest });
    }
    this.store.remove(key, out);
    this.counters.tombstonesReaped += 1;
  }

  // ---------------------------------------------------------------------------
  // Ring changes and ownership transfer
  // ---------------------------------------------------------------------------

  private refreshRing(nowMs: number, out: Output[]): void {
    const members = this.membership.ringMembers();
    const signature = JSON.stringify(members);
    if (signature === this.ringSignature) return;
    const before = this.table;
    this.ringSignature = signature;
    this.table = new PartitionTable(this.ringFactory(members), this.tuning.n, members);
    this.ringChangedAtMs = nowMs;
    const moves = planPartitionMoves(before, this.table);
    out.push({
      kind: "log",
      level: "info",
      message: `ring changed (${members.length} members): ${moves.length} partitions change owners`,
    });
    for (const move of moves) {
      if (!move.before.includes(this.id)) continue;
      const upLost = move.lost.filter((id) => this.isUp(id, nowMs));
      const retained = move.before.filter((id) => move.after.includes(id) && this.isUp(id, nowMs));
      const sender = upLost.length > 0 ? upLost.includes(this.id) : retained[0] === this.id;
      if (!sender) continue;
      for (const to of move.gained) this.startTransfer(move.partition, to);
    }
    // A partition we no longer hold is dropped only after its transfers finish.
    if (this.membership.self().status === "leaving") {
      for (const partition of this.store.partitionsHeld()) {
        for (const to of this.table.home(partition)) this.startTransfer(partition, to);
      }
    }
  }

  private startTransfer(partition: number, to: NodeId): void {
    if (to === this.id) return;
    const id = `${partition}/${to}`;
    if (this.transfersOut.has(id)) return;
    this.transfersOut.set(
      id,
      new OutgoingTransfer(
        `${this.id}/${this.newOpId()}/${id}`,
        partition,
        to,
        this.store.keyCountInPartition(partition),
        this.tuning.transfer.batchObjects,
      ),
    );
  }

  private lane(to: NodeId): TransferLane {
    let lane = this.transferLanes.get(to);
    if (lane === undefined) {
      lane = new TransferLane(to, this.tuning.transfer);
      this.transferLanes.set(to, lane);
    }
    return lane;
  }

  /** Send what the lane to `to` allows now (transfer.ts: pumpLane). */
  private pumpLane(to: NodeId, nowMs: number, out: Output[]): void {
    if (!this.isUp(to, nowMs)) return;
    const transfers = [...this.transfersOut.values()].filter(
      (t) => t.to === to && this.table.isHome(t.partition, to),
    );
    pumpLane(
      this.lane(to),
      transfers,
      nowMs,
      (transfer, batch) => this.sendTransferBatch(transfer, batch, nowMs, out),
      (transfer) =>
        this.send(out, to, nowMs, {
          type: "transferProbe",
          transferId: transfer.transferId,
          partition: transfer.partition,
        }),
    );
  }

  private sendTransferBatch(
    transfer: OutgoingTransfer,
    batch: TransferBatch,
    nowMs: number,
    out: Output[],
  ): void {
    // The objects as they are now: a resend carries writes made since the first send.
    const objects = this.objectsFor(batch.keys);
    this.counters.keysStreamed += objects.length;
    if (batch.attempt > 1) this.counters.keysResent += objects.length;
    this.send(out, transfer.to, nowMs, {
      type: "transferBatch",
      transferId: transfer.transferId,
      partition: transfer.partition,
      sequence: batch.sequence,
      objects,
      totalKeys: transfer.progress().keysTotal,
    });
  }

  private touchTransfers(key: string): void {
    if (this.transfersOut.size === 0) return;
    const { partition } = locateKey(key);
    for (const transfer of this.transfersOut.values()) {
      if (transfer.partition === partition) transfer.touch(key);
    }
  }

  private runTransfers(nowMs: number, out: Output[]): void {
    // Stray data (a partition held but not owned, with no transfer running):
    // hand it to the current home replicas, then drop it.
    if (nowMs >= this.nextStrayCheckAtMs) {
      this.nextStrayCheckAtMs = nowMs + this.tuning.antiEntropyIntervalMs;
      for (const partition of this.store.partitionsHeld()) {
        if (this.table.isHome(partition, this.id)) continue;
        if ([...this.transfersOut.values()].some((t) => t.partition === partition)) continue;
        for (const to of this.table.home(partition)) {
          if (this.isUp(to, nowMs)) this.startTransfer(partition, to);
        }
      }
    }
    const finished = new Set<number>();
    const destinations = new Set<NodeId>();
    for (const [id, transfer] of this.transfersOut) {
      if (!this.table.isHome(transfer.partition, transfer.to)) {
        // The target no longer owns it (the ring moved again): the stray check redoes it.
        this.transfersOut.delete(id);
        continue;
      }
      destinations.add(transfer.to);
    }
    for (const to of destinations) this.pumpLane(to, nowMs, out);
    for (const to of [...this.transferLanes.keys()]) {
      if (!destinations.has(to)) this.transferLanes.delete(to);
    }
    for (const [id, transfer] of this.transfersOut) {
      if (transfer.done) {
        this.transfersOut.delete(id);
        this.counters.transfersCompleted += 1;
        out.push({
          kind: "log",
          level: "info",
          message: `transfer of partition ${transfer.partition} to ${transfer.to} done (${transfer.progress().keysAcknowledged} keys)`,
        });
        finished.add(transfer.partition);
      }
    }
    let dropped = false;
    for (const partition of finished) {
      if (this.table.isHome(partition, this.id)) continue;
      if ([...this.transfersOut.values()].some((t) => t.partition === partition)) continue;
      for (const key of this.store.keysInPartition(partition)) this.store.remove(key, out);
      dropped = true;
    }
    if (dropped) {
      // Our dots for the dropped keys are gone: a new actor never claims them.
      this.epoch += 1;
      out.push({ kind: "persistEpoch", epoch: this.epoch });
    }
    if (
      this.membership.self().status === "leaving" &&
      this.store.size === 0 &&
      this.transfersOut.size === 0
    ) {
      this.membership.setSelfStatus("left");
      out.push({
        kind: "log",
        level: "info",
        message: "left the cluster: every partition handed off",
      });
    }
    for (const [id, incoming] of this.transfersIn) {
      if (nowMs - incoming.lastAtMs > this.tuning.antiEntropyExchangeTimeoutMs * 4)
        this.transfersIn.delete(id);
    }
  }

  // ---------------------------------------------------------------------------
  // Helpers and status
  // ---------------------------------------------------------------------------

  private currentActors(key: string): Set<ActorId> {
    const object = this.store.get(key);
    const current = new Set<ActorId>([this.actor]);
    if (object !== undefined) {
      const homes = new Set(this.homeReplicas(key));
      for (const actor of actorsOf(object)) {
        if (homes.has(actor.slice(0, actor.lastIndexOf(":")))) current.add(actor);
      }
    }
    return current;
  }

  /** Unique across restarts (the generation is part of it), so a late reply never matches a new op. */
  private newOpId(): string {
    this.nextOpId += 1;
    return `${this.id}:${this.generation}#${this.nextOpId}`;
  }

  private send(out: Output[], to: NodeId, nowMs: number, message: PeerMessage): void {
    out.push({
      kind: "send",
      envelope: { from: this.id, to, hlc: this.clock.now(nowMs), message },
    });
  }

  status(nowMs: number): NodeStatus {
    let owned = 0;
    for (let p = 0; p < PARTITION_COUNT; p += 1) if (this.table.isHome(p, this.id)) owned += 1;
    return {
      id: this.id,
      actor: this.actor,
      mode: this.mode,
      members: this.membership.members().map((m: MemberState) => ({
        id: m.id,
        address: m.address,
        dc: m.dc,
        rack: m.rack,
        status: m.status,
        up: this.isUp(m.id, nowMs),
        heartbeat: m.heartbeat,
      })),
      partitionsOwned: owned,
      keys: this.store.size,
      hintBacklog: this.hints
        .owners()
        .map((owner) => ({ owner, hints: this.hints.sizeFor(owner) })),
      antiEntropy: {
        exchanging:
          this.exchange === null
            ? null
            : { partition: this.exchange.partition, peer: this.exchange.peer },
        partitionCursor: this.partitionCursor,
        passesCompleted: this.antiEntropyPasses,
        lastPassCompletedAtMs: this.lastPassCompletedAtMs,
      },
      transfersOut: [...this.transfersOut.values()].map((t) => t.progress()),
      transferLanes: [...this.transferLanes.values()].map((lane) => {
        let inFlightObjects = 0;
        for (const t of this.transfersOut.values())
          if (t.to === lane.to) inFlightObjects += t.inFlightObjects;
        return lane.view(inFlightObjects);
      }),
      transfersIn: [...this.transfersIn.values()].map((t) => ({
        from: t.from,
        partition: t.partition,
        keysReceived: t.keysReceived,
        keysTotal: t.keysTotal,
      })),
      pendingRequests: this.pending.size,
      counters: { ...this.counters },
    };
  }

  /** True when nothing is in flight: no requests, hints, transfers, reaps or exchanges. */
  quiet(): boolean {
    return (
      this.pending.size === 0 &&
      this.forwardsOut.size === 0 &&
      this.hints.size() === 0 &&
      this.transfersOut.size === 0 &&
      this.reaping.size === 0 &&
      this.exchange === null
    );
  }

  /** Deleted keys present here (for tests: tombstones awaiting the reaper). */
  tombstoneCount(): number {
    return this.store.deletedKeys().length;
  }

  isDeletedHere(key: string): boolean {
    const object = this.store.get(key);
    return object === undefined || isDeleted(object);
  }
}

function countIn(nodes: Iterable<NodeId>, counted: ReadonlySet<NodeId> | null): number {
  let total = 0;
  for (const node of nodes) if (counted === null || counted.has(node)) total += 1;
  return total;
}

function assertQuorum(n: number, w: number, r: number, clusterN: number): void {
  const ok =
    Number.isInteger(n) &&
    Number.isInteger(w) &&
    Number.isInteger(r) &&
    n >= 1 &&
    n <= clusterN &&
    w >= 1 &&
    w <= n &&
    r >= 1 &&
    r <= n;
  if (!ok) {
    throw new ClusterError(
      ClusterErrorCode.BAD_QUORUM,
      `bad quorum N=${n} W=${w} R=${r}: need 1 <= W <= N, 1 <= R <= N and N <= the cluster's N (${clusterN})`,
    );
  }
}

function replyError(
  request: ClientRequest | { requestId: string; key: string },
  code: string,
  message: string,
  replied: number,
  replicas: readonly NodeId[],
): Output {
  return {
    kind: "reply",
    reply: {
      kind: "error",
      requestId: request.requestId,
      key: request.key,
      code,
      message,
      replied,
      replicas,
    },
  };
}
