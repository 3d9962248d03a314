import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OutgoingTransfer,
  pumpLane,
  type TransferBatch,
  TransferLane,
  type TransferOptions,
} from "../../src/cluster/transfer.js";

const OPTIONS: TransferOptions = {
  batchObjects: 4,
  batchesInFlight: 3,
  retryMs: 100,
  retryMaxMs: 1_600,
  queueDelayTargetMs: 20,
};

interface Run {
  delivered: Set<string>;
  touched: readonly string[];
  sends: number;
  resends: number;
  transfers: OutgoingTransfer[];
}

/**
 * Drive several transfers to one destination through a lane against a fake
 * receiver: each send is acknowledged after `delayMs(i)` ms unless `lost(i)`.
 * Checks the lane's invariants on every step.
 */
function drive(
  partitions: readonly (readonly string[])[],
  touched: readonly string[],
  delayMs: (i: number) => number,
  lost: (i: number) => boolean,
): Run {
  const transfers = partitions.map(
    (keys, p) => new OutgoingTransfer(`t${p}`, p, "n9", keys.length, OPTIONS.batchObjects),
  );
  const lane = new TransferLane("n9", OPTIONS);
  const delivered = new Set<string>();
  // sequence -1: the answer to a probe (the receiver holds nothing: every key goes).
  const acks: { atMs: number; transfer: OutgoingTransfer; sequence: number }[] = [];
  let probes = 0;
  const probe = (transfer: OutgoingTransfer) => {
    probes += 1;
    if (lost(1_000_000 + probes)) return;
    acks.push({ atMs: nowMs + delayMs(probes), transfer, sequence: -1 });
  };
  const lastSend = new Map<string, { atMs: number; attempt: number }>();
  let nowMs = 0;
  let sends = 0;
  let resends = 0;
  let touchedAt = 0;
  const send = (transfer: OutgoingTransfer, batch: TransferBatch) => {
    const id = `${transfer.transferId}/${batch.sequence}`;
    const previous = lastSend.get(id);
    if (previous !== undefined) {
      // Never again before the previous send's backed-off deadline.
      const minimumGap = Math.min(
        OPTIONS.retryMaxMs,
        OPTIONS.retryMs * 2 ** (previous.attempt - 1),
      );
      expect(nowMs - previous.atMs).toBeGreaterThanOrEqual(minimumGap);
      expect(batch.attempt).toBe(previous.attempt + 1);
      resends += 1;
    }
    lastSend.set(id, { atMs: nowMs, attempt: batch.attempt });
    expect(batch.keys.length).toBeLessThanOrEqual(OPTIONS.batchObjects);
    const i = sends;
    sends += 1;
    if (lost(i)) return;
    for (const key of batch.keys) delivered.add(key);
    acks.push({ atMs: nowMs + delayMs(i), transfer, sequence: batch.sequence });
  };
  const windowMax = OPTIONS.batchesInFlight * OPTIONS.batchObjects;
  const inFlight = () => transfers.reduce((sum, t) => sum + t.inFlightObjects, 0);
  for (let round = 0; round < 20_000 && !transfers.every((t) => t.done); round += 1) {
    const tickMs = nowMs + 10;
    acks.sort((a, b) => a.atMs - b.atMs);
    // Each ack is handled at its own arrival time (as the node handles a message), then the tick.
    while (acks.length > 0 && acks[0]!.atMs <= tickMs) {
      const ack = acks.shift()!;
      nowMs = Math.max(nowMs, ack.atMs);
      if (ack.sequence === -1) {
        ack.transfer.startStreaming(partitions[ack.transfer.partition]!);
      } else {
        const result = ack.transfer.acknowledge(ack.sequence, nowMs);
        if (result !== null) lane.onAcknowledged(result.roundTripMs);
      }
      pumpLane(lane, transfers, nowMs, send, probe);
      expect(inFlight()).toBeLessThanOrEqual(windowMax);
    }
    nowMs = tickMs;
    if (touchedAt < touched.length && round % 3 === 0) {
      transfers[touchedAt % transfers.length]!.touch(touched[touchedAt]!);
      touchedAt += 1;
    }
    pumpLane(lane, transfers, nowMs, send, probe);
    expect(inFlight()).toBeLessThanOrEqual(windowMax);
    expect(lane.window).toBeLessThanOrEqual(windowMax);
  }
  expect(transfers.every((t) => t.done)).toBe(true);
  return { delivered, touched: touched.slice(0, touchedAt), sends, resends, transfers };
}

const keySets = fc.array(
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 30 }),
  {
    minLength: 1,
    maxLength: 5,
  },
);

describe("outgoing transfers through a lane", () => {
  it("deliver every key (and every key touched meanwhile) despite lost acks, within the window, backing off", () => {
    fc.assert(
      fc.property(
        keySets,
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        (partitions, touched, delays, losses) => {
          const run = drive(
            partitions,
            touched,
            (i) => delays[i % delays.length]!,
            // Lose at most every other send of a sequence of sends, so the run ends.
            (i) => i % 2 === 0 && losses[(i / 2) % losses.length] === true,
          );
          for (const key of [...partitions.flat(), ...run.touched]) {
            expect(run.delivered.has(key)).toBe(true);
          }
          for (const transfer of run.transfers) {
            const progress = transfer.progress();
            expect(progress.keysAcknowledged).toBe(progress.keysTotal);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("never resends to a receiver that acknowledges within the timeout, however slowly", () => {
    fc.assert(
      fc.property(keySets, fc.integer({ min: 1, max: 99 }), (partitions, delayMs) => {
        const run = drive(
          partitions,
          [],
          () => delayMs,
          () => false,
        );
        expect(run.resends).toBe(0);
        const keys = partitions.reduce((sum, keys) => sum + keys.length, 0);
        expect(run.sends).toBe(
          partitions.reduce((sum, keys) => sum + Math.ceil(keys.length / OPTIONS.batchObjects), 0),
        );
        expect(run.delivered.size).toBeLessThanOrEqual(keys);
      }),
      { numRuns: 50 },
    );
  });

  it("sends nothing for buckets the receiver already holds: a probe answered with no keys ends the transfer", () => {
    const transfer = new OutgoingTransfer("t", 1, "n9", 500, OPTIONS.batchObjects);
    const lane = new TransferLane("n9", OPTIONS);
    let probes = 0;
    const sent: TransferBatch[] = [];
    pumpLane(
      lane,
      [transfer],
      0,
      (_t, batch) => sent.push(batch),
      () => (probes += 1),
    );
    expect(probes).toBe(1);
    expect(transfer.done).toBe(false);
    // Not answered yet: not probed again before its deadline, then again (backed off).
    pumpLane(
      lane,
      [transfer],
      50,
      (_t, batch) => sent.push(batch),
      () => (probes += 1),
    );
    expect(probes).toBe(1);
    pumpLane(
      lane,
      [transfer],
      OPTIONS.retryMs,
      (_t, batch) => sent.push(batch),
      () => (probes += 1),
    );
    expect(probes).toBe(2);
    transfer.startStreaming([]);
    expect(transfer.done).toBe(true);
    expect(sent).toEqual([]);
    expect(transfer.progress().keysTotal).toBe(0);
  });

  it("learns a slow receiver's round trip: acks slower than the first timeout stop causing resends", () => {
    // Every ack takes 150 ms (above retryMs = 100): the first batch is resent once;
    // its late ack is not measured (Karn), the next ones are, and the timeout adapts.
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const run = drive(
      [keys],
      [],
      () => 150,
      () => false,
    );
    expect(run.resends).toBeGreaterThan(0);
    expect(run.resends).toBeLessThanOrEqual(3);
  });

  it("keeps a slow receiver's queue near the delay target while keeping it busy", () => {
    // The receiver handles 0.1 object/ms, one batch after another (FIFO), and
    // acknowledges 1 ms after it handled a batch.
    const keys = Array.from({ length: 400 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    const transfers = [0, 1, 2].map((p) => new OutgoingTransfer(`t${p}`, p, "n9", 133, 4));
    for (const [p, t] of transfers.entries()) t.startStreaming(keys.slice(p * 133, p * 133 + 133));
    const lane = new TransferLane("n9", OPTIONS);
    const acks: { atMs: number; transfer: OutgoingTransfer; sequence: number }[] = [];
    let receiverFreeAtMs = 0;
    let nowMs = 0;
    const inFlightSamples: number[] = [];
    const send = (transfer: OutgoingTransfer, batch: TransferBatch) => {
      receiverFreeAtMs = Math.max(receiverFreeAtMs, nowMs + 1) + batch.keys.length / 0.1;
      acks.push({ atMs: receiverFreeAtMs + 1, transfer, sequence: batch.sequence });
    };
    while (!transfers.every((t) => t.done) && nowMs < 100_000) {
      nowMs += 1;
      while (acks.length > 0 && acks[0]!.atMs <= nowMs) {
        const ack = acks.shift()!;
        const result = ack.transfer.acknowledge(ack.sequence, nowMs);
        if (result !== null) lane.onAcknowledged(result.roundTripMs);
        pumpLane(lane, transfers, nowMs, send);
      }
      pumpLane(lane, transfers, nowMs, send);
      inFlightSamples.push(transfers.reduce((sum, t) => sum + t.inFlightObjects, 0));
    }
    expect(transfers.every((t) => t.done)).toBe(true);
    // Busy: the whole job takes little more than the receiver's own work (4 000 ms).
    expect(nowMs).toBeLessThan(4_000 * 1.25);
    // Near the target: 20 ms at 0.1 object/ms is 2 objects of queue, so the window
    // stays at one or two batches instead of the largest (3 batches = 12 objects).
    const mean = inFlightSamples.reduce((a, b) => a + b, 0) / inFlightSamples.length;
    expect(mean).toBeLessThanOrEqual(2 * OPTIONS.batchObjects);
  });

  it("the window grows with acks and falls back to one batch on a timeout", () => {
    const lane = new TransferLane("n1", OPTIONS);
    expect(lane.window).toBe(OPTIONS.batchObjects);
    lane.onAcknowledged(10);
    lane.onAcknowledged(10);
    lane.onAcknowledged(10);
    lane.onAcknowledged(10);
    expect(lane.window).toBe(OPTIONS.batchesInFlight * OPTIONS.batchObjects);
    expect(lane.retransmitTimeoutMs()).toBe(OPTIONS.retryMs);
    expect(lane.deadlineFor(3, 0)).toBe(4 * OPTIONS.retryMs);
    expect(lane.deadlineFor(30, 0)).toBe(OPTIONS.retryMaxMs);
    lane.onTimeout();
    expect(lane.window).toBe(OPTIONS.batchObjects);
    lane.onAcknowledged(10);
    lane.onAcknowledged(10);
    expect(lane.window).toBe(3 * OPTIONS.batchObjects);
    // Round trips far above the lowest one: queueing, so the window shrinks.
    for (let i = 0; i < 20; i += 1) lane.onAcknowledged(900);
    expect(lane.window).toBe(OPTIONS.batchObjects);
    expect(lane.retransmitTimeoutMs()).toBeGreaterThanOrEqual(900);
  });
});
