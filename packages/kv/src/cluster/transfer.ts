/**
 * Outgoing ownership transfer of one partition to one node: the keys are
 * snapshotted at the start and sent in batches of TRANSFER_BATCH_OBJECTS with at
 * most TRANSFER_BATCHES_IN_FLIGHT unacknowledged (the throttle); a batch not
 * acknowledged within TRANSFER_RETRY_MS is sent again (receivers merge, so a
 * duplicate is harmless). Keys written during the transfer are marked dirty and
 * sent again before the transfer completes, so nothing written meanwhile is
 * left behind when the sender drops the partition.
 */
import {
  TRANSFER_BATCH_OBJECTS,
  TRANSFER_BATCHES_IN_FLIGHT,
  TRANSFER_RETRY_MS,
} from "./constants.js";
import type { NodeId } from "./placement.js";

export interface TransferProgress {
  readonly transferId: string;
  readonly partition: number;
  readonly to: NodeId;
  readonly keysTotal: number;
  readonly keysSent: number;
  readonly keysAcknowledged: number;
  readonly done: boolean;
}

export interface TransferOptions {
  readonly batchObjects: number;
  readonly batchesInFlight: number;
  readonly retryMs: number;
}

export const DEFAULT_TRANSFER_OPTIONS: TransferOptions = {
  batchObjects: TRANSFER_BATCH_OBJECTS,
  batchesInFlight: TRANSFER_BATCHES_IN_FLIGHT,
  retryMs: TRANSFER_RETRY_MS,
};

export interface TransferBatch {
  readonly sequence: number;
  readonly keys: readonly string[];
}

export class OutgoingTransfer {
  private readonly queue: string[];
  private readonly queued: Set<string>;
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Map<number, { keys: string[]; sentAtMs: number }>();
  private nextSequence = 0;
  private keysSent = 0;
  private keysAcknowledged = 0;
  private keysTotal: number;

  constructor(
    readonly transferId: string,
    readonly partition: number,
    readonly to: NodeId,
    keys: readonly string[],
    private readonly options: TransferOptions = DEFAULT_TRANSFER_OPTIONS,
  ) {
    this.queue = [...keys];
    this.queued = new Set(keys);
    this.keysTotal = keys.length;
  }

  /** A key of the partition changed locally: make sure its latest state is sent. */
  touch(key: string): void {
    if (!this.queued.has(key) && !this.dirty.has(key)) {
      this.dirty.add(key);
      this.keysTotal += 1;
    }
  }

  /** Batches to send now: new ones within the in-flight limit, and overdue retries. */
  due(nowMs: number): TransferBatch[] {
    const out: TransferBatch[] = [];
    for (const [sequence, batch] of this.inFlight) {
      if (nowMs - batch.sentAtMs >= this.options.retryMs) {
        batch.sentAtMs = nowMs;
        out.push({ sequence, keys: batch.keys });
      }
    }
    while (this.inFlight.size < this.options.batchesInFlight) {
      if (this.queue.length === 0 && this.dirty.size > 0) {
        for (const key of [...this.dirty].sort()) {
          this.queue.push(key);
          this.queued.add(key);
        }
        this.dirty.clear();
      }
      if (this.queue.length === 0) break;
      const keys = this.queue.splice(0, this.options.batchObjects);
      for (const key of keys) this.queued.delete(key);
      const sequence = this.nextSequence;
      this.nextSequence += 1;
      this.inFlight.set(sequence, { keys, sentAtMs: nowMs });
      this.keysSent += keys.length;
      out.push({ sequence, keys });
    }
    return out;
  }

  acknowledge(sequence: number): void {
    const batch = this.inFlight.get(sequence);
    if (batch === undefined) return;
    this.inFlight.delete(sequence);
    this.keysAcknowledged += batch.keys.length;
  }

  get done(): boolean {
    return this.queue.length === 0 && this.dirty.size === 0 && this.inFlight.size === 0;
  }

  progress(): TransferProgress {
    return {
      transferId: this.transferId,
      partition: this.partition,
      to: this.to,
      keysTotal: this.keysTotal,
      keysSent: this.keysSent,
      keysAcknowledged: this.keysAcknowledged,
      done: this.done,
    };
  }
}
