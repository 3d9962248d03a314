import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutgoingTransfer } from "../../src/cluster/transfer.js";

describe("outgoing transfer", () => {
  it("delivers every key (and every key touched meanwhile) despite lost acks, within the in-flight limit", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 60 }),
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 10 }),
        fc.infiniteStream(fc.boolean()),
        (keys, touched, ackLost) => {
          const transfer = new OutgoingTransfer("t", 7, "n9", keys, {
            batchObjects: 4,
            batchesInFlight: 2,
            retryMs: 100,
          });
          const delivered = new Set<string>();
          const lost = ackLost[Symbol.iterator]();
          let nowMs = 0;
          let rounds = 0;
          let touchedAt = 0;
          while (!transfer.done && rounds < 10_000) {
            rounds += 1;
            nowMs += 10;
            if (touchedAt < touched.length && rounds % 3 === 0) {
              transfer.touch(touched[touchedAt]!);
              touchedAt += 1;
            }
            const batches = transfer.due(nowMs);
            expect(batches.length).toBeLessThanOrEqual(4);
            for (const batch of batches) {
              expect(batch.keys.length).toBeLessThanOrEqual(4);
              for (const key of batch.keys) delivered.add(key);
              if (lost.next().value !== true) transfer.acknowledge(batch.sequence);
            }
            if (touchedAt < touched.length && transfer.done) {
              transfer.touch(touched[touchedAt]!);
              touchedAt += 1;
            }
          }
          expect(transfer.done).toBe(true);
          for (const key of [...keys, ...touched.slice(0, touchedAt)])
            expect(delivered.has(key)).toBe(true);
          const progress = transfer.progress();
          expect(progress.keysAcknowledged).toBe(progress.keysTotal);
        },
      ),
      { numRuns: 100 },
    );
  });
});
