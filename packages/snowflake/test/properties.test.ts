import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClockBackwardsError,
  decode,
  geometryOf,
  ManualClock,
  PRESET_NAMES,
  PRESETS,
  SnowflakeGenerator,
} from "../src/index.js";

const NOW_MS = Date.UTC(2026, 0, 1);

describe("decode(generate) round-trips for every preset", () => {
  it("timestamp, datacenter, machine and sequence come back as generated", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PRESET_NAMES),
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.integer({ min: 0, max: NOW_MS }),
        fc.integer({ min: 1, max: 300 }),
        (name, datacenterSeed, machineSeed, offsetSeed, count) => {
          const layout = PRESETS[name];
          const g = geometryOf(layout);
          const datacenter = datacenterSeed % (g.maxDatacenter + 1);
          const machine = machineSeed % (g.maxMachine + 1);
          const nowMs = layout.epochMs + (offsetSeed % (NOW_MS - layout.epochMs));
          const clock = new ManualClock(nowMs);
          const generator = new SnowflakeGenerator({ layout, datacenter, machine, clock });
          const ids = generator.nextBatch(count);
          const unitStart = nowMs - ((nowMs - layout.epochMs) % layout.timeUnitMs);
          for (let i = 0; i < ids.length; i++) {
            const fields = decode(ids[i]!, layout);
            expect(fields.datacenter).toBe(datacenter);
            expect(fields.machine).toBe(machine);
            const unitsLater = Math.floor(i / g.idsPerUnit);
            expect(fields.timestamp).toBe(unitStart + unitsLater * layout.timeUnitMs);
            expect(fields.sequence).toBe(i % g.idsPerUnit);
            expect(fields.iso).toBe(new Date(fields.timestamp).toISOString());
            expect(ids[i]! < 1n << 63n).toBe(true);
          }
          // The string path produces the same ids as the batch path.
          const twin = new SnowflakeGenerator({
            layout,
            datacenter,
            machine,
            clock: new ManualClock(nowMs),
          });
          expect(twin.nextStrings(count)).toEqual([...ids].map(String));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("decode(generate) round-trips for any valid layout", () => {
  const layoutArbitrary = fc
    .record({
      sequenceBits: fc.integer({ min: 1, max: 22 }),
      datacenterBits: fc.integer({ min: 0, max: 8 }),
      machineBits: fc.integer({ min: 1, max: 22 }),
      timeUnitMs: fc.integer({ min: 1, max: 50 }),
      fieldOrder: fc.constantFrom(
        "datacenter-machine-sequence" as const,
        "sequence-datacenter-machine" as const,
      ),
    })
    .filter(
      (l) =>
        l.datacenterBits + l.machineBits <= 30 &&
        63 - l.sequenceBits - l.datacenterBits - l.machineBits >= 20,
    )
    .map((l) => ({
      ...l,
      name: "custom",
      epochMs: Date.UTC(2020, 0, 1),
      timestampBits: 63 - l.sequenceBits - l.datacenterBits - l.machineBits,
    }));

  const bigSequenceLayout = {
    name: "custom",
    epochMs: Date.UTC(2020, 0, 1),
    timeUnitMs: 1,
    fieldOrder: "sequence-datacenter-machine" as const,
  };

  it("including layouts whose sequence field lies above bit 32 (the bigint path)", () => {
    let bigintPathRuns = 0;
    fc.assert(
      fc.property(
        layoutArbitrary,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 200 }),
        (layout, dcSeed, machineSeed, timeSeed, count) => {
          const g = geometryOf(layout);
          if (g.sequenceShift + layout.sequenceBits > 32) bigintPathRuns++;
          const datacenter = dcSeed % (g.maxDatacenter + 1);
          const machine = machineSeed % (g.maxMachine + 1);
          const units =
            timeSeed %
            Math.min(
              g.maxTimestamp - 10,
              Math.floor((NOW_MS - layout.epochMs) / layout.timeUnitMs),
            );
          const nowMs = layout.epochMs + units * layout.timeUnitMs;
          const generator = new SnowflakeGenerator({
            layout,
            datacenter,
            machine,
            clock: new ManualClock(nowMs),
          });
          const ids = generator.nextBatch(count);
          const strings = new SnowflakeGenerator({
            layout,
            datacenter,
            machine,
            clock: new ManualClock(nowMs),
          }).nextStrings(count);
          for (let i = 0; i < count; i++) {
            const fields = decode(ids[i]!, layout);
            if (
              fields.datacenter !== datacenter ||
              fields.machine !== machine ||
              fields.sequence !== i % g.idsPerUnit ||
              fields.timestamp !== nowMs + Math.floor(i / g.idsPerUnit) * layout.timeUnitMs ||
              strings[i] !== ids[i]!.toString() ||
              (i > 0 && ids[i]! <= ids[i - 1]!)
            ) {
              throw new Error(`id ${i} (${ids[i]}) decodes to ${JSON.stringify(fields)}`);
            }
          }
        },
      ),
      {
        numRuns: 200,
        // fast-check favours small widths, so also pin layouts whose sequence field lies
        // above bit 32, where batches are built with bigints.
        examples: [
          [
            {
              ...bigSequenceLayout,
              sequenceBits: 12,
              machineBits: 22,
              datacenterBits: 2,
              timestampBits: 27,
            },
            1,
            4_000_000,
            123_456,
            5_000,
          ],
          [
            {
              ...bigSequenceLayout,
              sequenceBits: 20,
              machineBits: 16,
              datacenterBits: 4,
              timestampBits: 23,
            },
            3,
            60_000,
            999,
            200,
          ],
        ],
      },
    );
    expect(bigintPathRuns).toBeGreaterThan(0);
  });
});

type Step =
  | { kind: "advance"; ms: number }
  | { kind: "back"; ms: number }
  | { kind: "next" }
  | { kind: "batch"; count: number };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("back" as const), ms: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant("next" as const) }),
  fc.record({ kind: fc.constant("batch" as const), count: fc.integer({ min: 1, max: 9_000 }) }),
);

describe("model: any sequence of clock moves and requests", () => {
  it("never issues an id at or below the last one, and refuses exactly when the step back is too large", () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 8 }),
        fc.constantFrom(0, 0, 2, 7),
        (steps, maxBackwardsMs, maxLagMs) => {
          const layout = PRESETS.twitter;
          const clock = new ManualClock(NOW_MS);
          const generator = new SnowflakeGenerator({
            layout,
            machine: 5,
            clock,
            maxBackwardsMs,
            maxLagMs,
          });
          // The model: the highest timestamp used so far, and the last id.
          let lastId = -1n;
          let highestMs = -1;
          for (const step of steps) {
            if (step.kind === "advance") clock.advance(step.ms);
            else if (step.kind === "back") clock.advance(-step.ms);
            else {
              const behindMs = highestMs - clock.nowMs();
              const expectRefusal = highestMs >= 0 && behindMs > maxBackwardsMs;
              const issuedBefore = generator.issuedTotal;
              try {
                const ids =
                  step.kind === "next" ? [generator.next()] : [...generator.nextBatch(step.count)];
                expect(expectRefusal).toBe(false);
                for (const id of ids) {
                  if (id <= lastId)
                    throw new Error(`id ${id} is not above the last one, ${lastId}`);
                  lastId = id;
                }
                highestMs = decode(lastId, layout).timestamp;
                // Timestamps are never ahead of the clock (waits move it only as far as needed),
                // and behind it by at most the lag allowance.
                expect(highestMs).toBeLessThanOrEqual(clock.nowMs());
                expect(highestMs).toBeGreaterThanOrEqual(clock.nowMs() - maxLagMs);
              } catch (error) {
                if (!(error instanceof ClockBackwardsError)) throw error;
                expect(expectRefusal).toBe(true);
                expect(error.offsetMs).toBe(behindMs);
                expect(generator.issuedTotal).toBe(issuedBefore);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
