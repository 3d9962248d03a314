import { describe, expect, it } from "vitest";
import {
  geometryOf,
  type Layout,
  PRESET_NAMES,
  PRESETS,
  preset,
  SnowflakeError,
  SnowflakeErrorCode,
  theoreticalIdsPerSecond,
  validateLayout,
} from "../src/index.js";

const NOW_MS = Date.UTC(2026, 0, 1);

function layoutError(layout: Layout): string {
  try {
    validateLayout(layout, NOW_MS);
  } catch (error) {
    expect(error).toBeInstanceOf(SnowflakeError);
    expect((error as SnowflakeError).code).toBe(SnowflakeErrorCode.LAYOUT_INVALID);
    return (error as Error).message;
  }
  throw new Error("layout was accepted");
}

describe("layouts", () => {
  it("every preset is valid and uses 63 bits", () => {
    for (const name of PRESET_NAMES) {
      const layout = PRESETS[name];
      validateLayout(layout, NOW_MS);
      expect(
        layout.timestampBits + layout.datacenterBits + layout.machineBits + layout.sequenceBits,
      ).toBe(63);
    }
  });

  it("presets carry the published parameters", () => {
    expect(PRESETS.twitter).toMatchObject({
      epochMs: 1288834974657,
      timestampBits: 41,
      datacenterBits: 5,
      machineBits: 5,
      sequenceBits: 12,
    });
    expect(PRESETS.discord).toMatchObject({
      epochMs: 1420070400000,
      datacenterBits: 5,
      machineBits: 5,
      sequenceBits: 12,
    });
    expect(PRESETS.sonyflake).toMatchObject({
      epochMs: Date.parse("2014-09-01T00:00:00Z"),
      timeUnitMs: 10,
      timestampBits: 39,
      machineBits: 16,
      sequenceBits: 8,
    });
    expect(PRESETS.instagram).toMatchObject({ machineBits: 13, sequenceBits: 10 });
    expect(preset("instagram", { epochMs: 1_600_000_000_000 }).epochMs).toBe(1_600_000_000_000);
  });

  it("twitter's theoretical limit is 4096 ids per ms", () => {
    expect(theoreticalIdsPerSecond(PRESETS.twitter)).toBe(4_096_000);
    expect(theoreticalIdsPerSecond(PRESETS.sonyflake)).toBe(25_600);
  });

  it("sonyflake puts the sequence above the machine id", () => {
    const g = geometryOf(PRESETS.sonyflake);
    expect(g).toMatchObject({ machineShift: 0, sequenceShift: 16, timestampShift: 24 });
    const t = geometryOf(PRESETS.twitter);
    expect(t).toMatchObject({
      sequenceShift: 0,
      machineShift: 12,
      datacenterShift: 17,
      timestampShift: 22,
    });
  });

  it("refuses layouts that are not 63 bits, have empty fields, or an epoch in the future", () => {
    const base = PRESETS.twitter;
    expect(layoutError({ ...base, timestampBits: 42 })).toMatch(/add up to 63 bits/);
    expect(layoutError({ ...base, sequenceBits: 0, timestampBits: 53 })).toMatch(/sequenceBits/);
    expect(layoutError({ ...base, machineBits: 0, datacenterBits: 10 })).toMatch(/machineBits/);
    expect(layoutError({ ...base, epochMs: NOW_MS + 1 })).toMatch(/in the future/);
    expect(layoutError({ ...base, timeUnitMs: 0 })).toMatch(/timeUnitMs/);
    expect(layoutError({ ...base, epochMs: 1.5 })).toMatch(/epochMs/);
  });

  it("refuses an unknown preset by name", () => {
    expect(() => preset("snowflake2")).toThrow(/unknown layout preset "snowflake2"/);
  });
});
