/**
 * Ownership transfer: streaming a partition's keys to a node that gained it.
 *
 * An OutgoingTransfer is one partition to one node. It starts with a probe:
 * the receiver answers with its Merkle leaf hashes for the partition, and only
 * the keys of buckets whose hash differs are sent — nothing to a node that
 * already holds the partition (a ring change that only revealed existing
 * members, e.g. while a cluster with data starts up), everything to a new one.
 * Those keys are sent in batches of `batchObjects`; keys written during the
 * transfer are marked dirty and sent again before the transfer completes, so
 * nothing written meanwhile is left behind when the sender drops the partition.
 *
 * A TransferLane paces every transfer from this node to one destination, the
 * way TCP paces a connection, so that a receiver that falls behind slows the
 * stream down instead of being sent the same batches again:
 *
 *   - window: at most `window` objects unacknowledged towards the destination
 *     over all its transfers (not per transfer: a join moves ~3/4 of 256
 *     partitions at once, and a per-transfer limit let hundreds of batches
 *     queue up at the new node). Counted in objects, not batches, because
 *     objects are the receiver's work and a partition of few keys makes small
 *     batches. The window starts at one batch (`batchObjects`) and is
 *     delay-based, as LEDBAT is for background transfers: each measured round
 *     trip minus the lowest one seen is the receiver's queueing delay; under
 *     `queueDelayTargetMs` the window grows by one batch (up to
 *     `batchesInFlight` batches), over it it shrinks by one batch. So a
 *     receiver's queue holds about the target's worth of transfer work and a
 *     client request arriving there waits about that long, not for every
 *     batch the senders could have in flight. A timeout resets it to one batch.
 *   - ack-driven pacing: a new batch goes out when an acknowledgement frees a
 *     slot in the window (the node calls the lane from the ack's step, not only
 *     from its tick).
 *   - retransmission timeout from measured round trips (Jacobson/Karels:
 *     srtt + 4·rttvar, never below `retryMs`), doubled per attempt of the same
 *     batch up to `retryMaxMs` (exponential backoff). A batch is never sent
 *     again before its own deadline, and round trips of retransmitted batches
 *     are not measured (Karn's rule), so a slow receiver is not flooded with
 *     duplicates. Receivers merge, so a duplicate is harmless, only wasteful.
 */
import {
  TRANSFER_BATCH_OBJECTS,
  TRANSFER_BATCHES_IN_FLIGHT,
  TRANSFER_QUEUE_DELAY_TARGET_MS,
  TRANSFER_RETRY_MAX_MS,
  TRANSFER_RETRY_MS,
} from "./constants.js";
import type { NodeId } from "./placement.js";

export interface TransferProgress {
  readonly transferId: string;
  readonly partition: number;
  readonly to: NodeId;
  readonly keysTotal: number;
  /** Keys sent, each counted once (retransmissions are in keysResent). */
  readonly keysSent: number;
  readonly keysAcknowledged: number;
  /** Keys sent again because their batch was not acknowledged in time. */
  readonly keysResent: number;
  readonly done: boolean;
}

export interface TransferOptions {
  readonly batchObjects: number;
  /** Largest window, in full batches: objects unacknowledged towards one destination ≤ this × batchObjects. */
  readonly batchesInFlight: number;
  /** Retransmission timeout before any round trip is measured, and its floor. */
  readonly retryMs: number;
  /** Ceiling of the backed-off retransmission timeout. */
  readonly retryMaxMs: number;
  /** Queueing delay at the receiver the window aims for (round trip − lowest round trip). */
  readonly queueDelayTargetMs: number;
}

export const DEFAULT_TRANSFER_OPTIONS: TransferOptions = {
  batchObjects: TRANSFER_BATCH_OBJECTS,
  batchesInFlight: TRANSFER_BATCHES_IN_FLIGHT,
  retryMs: TRANSFER_RETRY_MS,
  retryMaxMs: TRANSFER_RETRY_MAX_MS,
  queueDelayTargetMs: TRANSFER_QUEUE_DELAY_TARGET_MS,
};

/** Probes (leaf-hash requests) unanswered per lane at most: each answer is ~5 KB. */
export const TRANSFER_PROBES_IN_FLIGHT = 8;

export interface TransferBatch {
  readonly sequence: number;
  readonly keys: readonly string[];
  /** 1 for the first send, 2 for the first retransmission, ... */
  readonly attempt: number;
}

interface InFlightBatch {
  readonly keys: string[];
  sentAtMs: number;
  deadlineMs: number;
  attempt: number;
}

export class OutgoingTransfer {
  private queue: string[] = [];
  private queued = new Set<string>();
  /** Until the receiver's leaf hashes arrive: the probe's state (null once answered). */
  private probe: { deadlineMs: number; attempt: number } | null = null;
  private probing = true;
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Map<number, InFlightBatch>();
  private nextSequence = 0;
  private keysSent = 0;
  private keysResent = 0;
  private keysAcknowledged = 0;
  private keysTotal: number;

  /**
   * `keysHeld`: how many keys of the partition the sender holds now (progress
   * only: which keys go is decided when the receiver's leaf hashes arrive).
   */
  constructor(
    readonly transferId: string,
    readonly partition: number,
    readonly to: NodeId,
    keysHeld: number,
    private readonly batchObjects: number = TRANSFER_BATCH_OBJECTS,
  ) {
    if (!(Number.isInteger(batchObjects) && batchObjects >= 1)) {
      throw new RangeError(`transfer batch size must be a positive integer, got ${batchObjects}`);
    }
    this.keysTotal = keysHeld;
  }

  /** Waiting for the receiver's leaf hashes. */
  get isProbing(): boolean {
    return this.probing;
  }

  /** Whether the probe should be sent now: never sent, or its deadline passed. */
  probeDue(nowMs: number): boolean {
    return this.probing && (this.probe === null || nowMs >= this.probe.deadlineMs);
  }

  /** The probe is (re)sent now; `deadlineFor` gives the deadline of its attempt number. */
  probeSent(deadlineFor: (attempt: number) => number): void {
    const attempt = (this.probe?.attempt ?? 0) + 1;
    this.probe = { deadlineMs: deadlineFor(attempt), attempt };
  }

  get probeInFlight(): boolean {
    return this.probing && this.probe !== null;
  }

  /**
   * The receiver's leaf hashes arrived: from now on send `keys` (the keys of
   * the buckets that differ, sorted). A duplicate answer is ignored.
   */
  startStreaming(keys: readonly string[]): void {
    if (!this.probing) return;
    this.probing = false;
    this.probe = null;
    for (const key of keys) {
      if (this.queued.has(key) || this.dirty.has(key)) continue;
      this.queue.push(key);
      this.queued.add(key);
    }
    this.keysTotal = this.queue.length + this.dirty.size;
  }

  /** A key of the partition changed locally: make sure its latest state is sent. */
  touch(key: string): void {
    if (!this.queued.has(key) && !this.dirty.has(key)) {
      this.dirty.add(key);
      if (!this.probing) this.keysTotal += 1;
    }
  }

  /** Objects in unacknowledged batches. */
  get inFlightObjects(): number {
    let total = 0;
    for (const batch of this.inFlight.values()) total += batch.keys.length;
    return total;
  }

  /** True when a new batch could be sent now (keys queued or dirty, probe answered). */
  get hasUnsent(): boolean {
    return !this.probing && (this.queue.length > 0 || this.dirty.size > 0);
  }

  /** Size of the batch nextBatch would make. */
  get nextBatchSize(): number {
    const unsent = this.queue.length > 0 ? this.queue.length : this.dirty.size;
    return Math.min(this.batchObjects, unsent);
  }

  /** The next batch of unsent keys (null when none), in flight until `deadlineMs`. */
  nextBatch(nowMs: number, deadlineMs: number): TransferBatch | null {
    if (this.probing) return null;
    if (this.queue.length === 0 && this.dirty.size > 0) {
      for (const key of [...this.dirty].sort()) {
        this.queue.push(key);
        this.queued.add(key);
      }
      this.dirty.clear();
    }
    if (this.queue.length === 0) return null;
    const keys = this.queue.splice(0, this.batchObjects);
    for (const key of keys) this.queued.delete(key);
    const sequence = this.nextSequence;
    this.nextSequence += 1;
    this.inFlight.set(sequence, { keys, sentAtMs: nowMs, deadlineMs, attempt: 1 });
    this.keysSent += keys.length;
    return { sequence, keys, attempt: 1 };
  }

  /** In-flight batches whose deadline has passed, oldest sequence first. */
  overdue(nowMs: number): number[] {
    const out: number[] = [];
    for (const [sequence, batch] of this.inFlight) {
      if (nowMs >= batch.deadlineMs) out.push(sequence);
    }
    return out;
  }

  /** Send an overdue batch again, in flight until `deadlineMs`. */
  resend(sequence: number, nowMs: number, deadlineMs: number): TransferBatch {
    const batch = this.inFlight.get(sequence);
    if (batch === undefined) throw new Error(`transfer ${this.transferId}: no batch ${sequence}`);
    batch.attempt += 1;
    batch.sentAtMs = nowMs;
    batch.deadlineMs = deadlineMs;
    this.keysResent += batch.keys.length;
    return { sequence, keys: batch.keys, attempt: batch.attempt };
  }

  /** Give an overdue batch a new deadline without sending it again (the lane resends one at a time). */
  defer(sequence: number, deadlineMs: number): void {
    const batch = this.inFlight.get(sequence);
    if (batch !== undefined) batch.deadlineMs = deadlineMs;
  }

  /** The attempt number of an in-flight batch (0 when not in flight). */
  attemptOf(sequence: number): number {
    return this.inFlight.get(sequence)?.attempt ?? 0;
  }

  /**
   * The receiver acknowledged a batch. Returns null for an unknown or duplicate
   * ack, else the round trip (null for a retransmitted batch: Karn's rule).
   */
  acknowledge(sequence: number, nowMs: number): { roundTripMs: number | null } | null {
    const batch = this.inFlight.get(sequence);
    if (batch === undefined) return null;
    this.inFlight.delete(sequence);
    this.keysAcknowledged += batch.keys.length;
    return { roundTripMs: batch.attempt === 1 ? Math.max(0, nowMs - batch.sentAtMs) : null };
  }

  get done(): boolean {
    return (
      !this.probing && this.queue.length === 0 && this.dirty.size === 0 && this.inFlight.size === 0
    );
  }

  progress(): TransferProgress {
    return {
      transferId: this.transferId,
      partition: this.partition,
      to: this.to,
      keysTotal: this.keysTotal,
      keysSent: this.keysSent,
      keysAcknowledged: this.keysAcknowledged,
      keysResent: this.keysResent,
      done: this.done,
    };
  }
}

/** Exponent cap of the per-batch backoff (2^6 × the timeout, then retryMaxMs caps it anyway). */
const BACKOFF_EXPONENT_MAX = 6;

export interface LaneView {
  readonly to: NodeId;
  /** Objects the lane may have unacknowledged now, and has. */
  readonly windowObjects: number;
  readonly inFlightObjects: number;
  readonly smoothedRoundTripMs: number | null;
  readonly lowestRoundTripMs: number | null;
  readonly retransmitTimeoutMs: number;
  readonly timeouts: number;
}

/** Pacing state towards one destination (see the module comment). */
export class TransferLane {
  private windowSize: number;
  private smoothedRoundTripMs: number | null = null;
  private lowestRoundTripMs: number | null = null;
  private roundTripVarianceMs = 0;
  private timeouts = 0;

  constructor(
    readonly to: NodeId,
    private readonly options: TransferOptions = DEFAULT_TRANSFER_OPTIONS,
  ) {
    if (!(Number.isInteger(options.batchesInFlight) && options.batchesInFlight >= 1)) {
      throw new RangeError(`batchesInFlight must be a positive integer`);
    }
    this.windowSize = options.batchObjects;
  }

  /** Objects that may be unacknowledged now. */
  get window(): number {
    return this.windowSize;
  }

  /** Timeout of a first send: srtt + 4·rttvar, within [retryMs, retryMaxMs]. */
  retransmitTimeoutMs(): number {
    const estimate =
      this.smoothedRoundTripMs === null
        ? this.options.retryMs
        : this.smoothedRoundTripMs + 4 * this.roundTripVarianceMs;
    return Math.min(this.options.retryMaxMs, Math.max(this.options.retryMs, estimate));
  }

  /** Deadline of a batch sent now for the `attempt`-th time: the timeout doubled per attempt. */
  deadlineFor(attempt: number, nowMs: number): number {
    const exponent = Math.min(BACKOFF_EXPONENT_MAX, Math.max(0, attempt - 1));
    return nowMs + Math.min(this.options.retryMaxMs, this.retransmitTimeoutMs() * 2 ** exponent);
  }

  /**
   * An acknowledgement arrived. With a measured round trip: learn it, and move
   * the window one batch towards the queueing-delay target. Without one (a
   * retransmitted batch, Karn's rule): the receiver is alive, grow by one batch.
   */
  onAcknowledged(roundTripMs: number | null): void {
    const batch = this.options.batchObjects;
    const largest = this.options.batchesInFlight * batch;
    if (roundTripMs !== null) {
      this.lowestRoundTripMs = Math.min(this.lowestRoundTripMs ?? roundTripMs, roundTripMs);
    }
    const queueDelayMs =
      roundTripMs === null ? 0 : roundTripMs - (this.lowestRoundTripMs ?? roundTripMs);
    this.windowSize =
      queueDelayMs > this.options.queueDelayTargetMs
        ? Math.max(batch, this.windowSize - batch)
        : Math.min(largest, this.windowSize + batch);
    if (roundTripMs === null) return;
    if (this.smoothedRoundTripMs === null) {
      this.smoothedRoundTripMs = roundTripMs;
      this.roundTripVarianceMs = roundTripMs / 2;
    } else {
      this.roundTripVarianceMs =
        0.75 * this.roundTripVarianceMs + 0.25 * Math.abs(this.smoothedRoundTripMs - roundTripMs);
      this.smoothedRoundTripMs = 0.875 * this.smoothedRoundTripMs + 0.125 * roundTripMs;
    }
  }

  /** A batch timed out: back to one batch in flight until acknowledgements return. */
  onTimeout(): void {
    this.timeouts += 1;
    this.windowSize = this.options.batchObjects;
  }

  view(inFlightObjects: number): LaneView {
    return {
      to: this.to,
      windowObjects: this.windowSize,
      inFlightObjects,
      smoothedRoundTripMs: this.smoothedRoundTripMs,
      lowestRoundTripMs: this.lowestRoundTripMs,
      retransmitTimeoutMs: this.retransmitTimeoutMs(),
      timeouts: this.timeouts,
    };
  }
}

/**
 * Send what `lane` allows now over its transfers (all to `lane.to`): first the
 * batches whose own backed-off deadline passed, then new batches while the
 * window has room, transfer by transfer (so partitions finish, and are
 * dropped by the sender, one after another). After a timeout only the oldest
 * overdue batch is sent again and the others get a fresh deadline: a receiver
 * that is merely slow would otherwise be sent the whole window a second time.
 */
export function pumpLane(
  lane: TransferLane,
  transfers: readonly OutgoingTransfer[],
  nowMs: number,
  send: (transfer: OutgoingTransfer, batch: TransferBatch) => void,
  probe: (transfer: OutgoingTransfer) => void = () => {},
): void {
  // Probes first (cheap for the receiver), a few at a time, each on its own backed-off deadline.
  let probesInFlight = 0;
  for (const transfer of transfers) {
    if (transfer.probeInFlight && !transfer.probeDue(nowMs)) probesInFlight += 1;
  }
  for (const transfer of transfers) {
    if (probesInFlight >= TRANSFER_PROBES_IN_FLIGHT) break;
    if (!transfer.probeDue(nowMs)) continue;
    transfer.probeSent((attempt) => lane.deadlineFor(attempt, nowMs));
    probe(transfer);
    probesInFlight += 1;
  }
  let resent = false;
  for (const transfer of transfers) {
    for (const sequence of transfer.overdue(nowMs)) {
      const attempt = transfer.attemptOf(sequence);
      if (resent) {
        transfer.defer(sequence, lane.deadlineFor(attempt, nowMs));
        continue;
      }
      resent = true;
      lane.onTimeout();
      send(transfer, transfer.resend(sequence, nowMs, lane.deadlineFor(attempt + 1, nowMs)));
    }
  }
  let inFlight = 0;
  for (const transfer of transfers) inFlight += transfer.inFlightObjects;
  for (const transfer of transfers) {
    while (transfer.hasUnsent) {
      // Whole batches only: wait for room rather than send a sliver.
      if (inFlight + transfer.nextBatchSize > lane.window) return;
      const batch = transfer.nextBatch(nowMs, lane.deadlineFor(1, nowMs));
      if (batch === null) break;
      send(transfer, batch);
      inFlight += batch.keys.length;
    }
  }
}
