/**
 * Id layouts: how the 63 usable bits of an id are split between timestamp,
 * datacenter, machine and sequence, which epoch the timestamp counts from and
 * in which unit. The sign bit is always 0 so every id fits a signed int64
 * (Java long, Postgres bigint) and orders the same signed or unsigned.
 *
 *   bit 63   | timestamp | datacenter | machine | sequence     (datacenter-machine-sequence)
 *   bit 63   | timestamp | sequence | datacenter | machine     (sequence-datacenter-machine, Sonyflake)
 */
import { ID_BITS } from "./constants.js";
import { SnowflakeError, SnowflakeErrorCode } from "./errors.js";

export type FieldOrder = "datacenter-machine-sequence" | "sequence-datacenter-machine";

export interface Layout {
  /** A name for messages and the state file (a preset name or "custom"). */
  readonly name: string;
  /** Unix time in ms that timestamp 0 stands for. Must not be in the future. */
  readonly epochMs: number;
  /** Length of one timestamp tick in ms (1 for Twitter, 10 for Sonyflake). */
  readonly timeUnitMs: number;
  readonly timestampBits: number;
  /** May be 0 (Sonyflake and Instagram have one worker field, held in `machine`). */
  readonly datacenterBits: number;
  readonly machineBits: number;
  readonly sequenceBits: number;
  readonly fieldOrder: FieldOrder;
}

/** Bit positions and limits derived from a validated layout. */
export interface LayoutGeometry {
  readonly timestampShift: number;
  readonly datacenterShift: number;
  readonly machineShift: number;
  readonly sequenceShift: number;
  readonly maxTimestamp: number;
  readonly maxDatacenter: number;
  readonly maxMachine: number;
  readonly maxSequence: number;
  /** Ids per time unit for one worker: the layout's throughput ceiling. */
  readonly idsPerUnit: number;
}

export type PresetName = "twitter" | "discord" | "sonyflake" | "instagram";

export const PRESET_NAMES: readonly PresetName[] = ["twitter", "discord", "sonyflake", "instagram"];

/**
 * The presets. Discord and Instagram describe their time field as 42 and 41
 * bits, but the top one of those is the int64 sign bit; with it kept 0 the
 * usable widths are 41 and 40 bits, and real ids decode identically until the
 * sign bit would be set (Discord: 2084, Instagram: 2046).
 */
export const PRESETS: Readonly<Record<PresetName, Layout>> = {
  twitter: {
    name: "twitter",
    epochMs: 1288834974657,
    timeUnitMs: 1,
    timestampBits: 41,
    datacenterBits: 5,
    machineBits: 5,
    sequenceBits: 12,
    fieldOrder: "datacenter-machine-sequence",
  },
  discord: {
    name: "discord",
    epochMs: 1420070400000,
    timeUnitMs: 1,
    timestampBits: 41,
    datacenterBits: 5,
    machineBits: 5,
    sequenceBits: 12,
    fieldOrder: "datacenter-machine-sequence",
  },
  sonyflake: {
    name: "sonyflake",
    epochMs: Date.UTC(2014, 8, 1),
    timeUnitMs: 10,
    timestampBits: 39,
    datacenterBits: 0,
    machineBits: 16,
    sequenceBits: 8,
    fieldOrder: "sequence-datacenter-machine",
  },
  instagram: {
    name: "instagram",
    // Instagram's published epoch (2011-08-24); override with `epochMs`.
    epochMs: 1314220021721,
    timeUnitMs: 1,
    timestampBits: 40,
    datacenterBits: 0,
    machineBits: 13,
    sequenceBits: 10,
    fieldOrder: "datacenter-machine-sequence",
  },
};

export interface PresetOptions {
  /** Replace the preset's epoch (Instagram-style: each deployment picks its own). */
  epochMs?: number;
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

export function preset(name: string, options: PresetOptions = {}): Layout {
  if (!isPresetName(name)) {
    throw new SnowflakeError(
      SnowflakeErrorCode.UNKNOWN_PRESET,
      `unknown layout preset "${name}" (known: ${PRESET_NAMES.join(", ")})`,
    );
  }
  const base = PRESETS[name];
  return options.epochMs === undefined ? base : { ...base, epochMs: options.epochMs };
}

function invalid(layout: Layout, reason: string): SnowflakeError {
  return new SnowflakeError(SnowflakeErrorCode.LAYOUT_INVALID, `layout ${layout.name}: ${reason}`);
}

function checkWidth(layout: Layout, field: string, bits: number, min: number): void {
  if (!Number.isInteger(bits) || bits < min || bits > ID_BITS) {
    throw invalid(
      layout,
      `${field} must be an integer number of bits, at least ${min}, got ${bits}`,
    );
  }
}

/**
 * Checks a layout and returns its geometry. `nowMs` is the current wall time,
 * used only to refuse an epoch in the future (which would make every
 * timestamp negative, or, worse, a default like "process start" that repeats).
 */
export function validateLayout(layout: Layout, nowMs: number): LayoutGeometry {
  checkWidth(layout, "timestampBits", layout.timestampBits, 1);
  checkWidth(layout, "datacenterBits", layout.datacenterBits, 0);
  checkWidth(layout, "machineBits", layout.machineBits, 1);
  checkWidth(layout, "sequenceBits", layout.sequenceBits, 1);
  const total =
    layout.timestampBits + layout.datacenterBits + layout.machineBits + layout.sequenceBits;
  if (total !== ID_BITS) {
    throw invalid(
      layout,
      `fields must add up to ${ID_BITS} bits (the sign bit stays 0), got ${layout.timestampBits}+${layout.datacenterBits}+${layout.machineBits}+${layout.sequenceBits}=${total}`,
    );
  }
  if (layout.sequenceBits > 30) {
    throw invalid(layout, `sequenceBits must be at most 30, got ${layout.sequenceBits}`);
  }
  if (layout.datacenterBits + layout.machineBits > 30) {
    throw invalid(layout, "datacenterBits + machineBits must be at most 30");
  }
  if (!Number.isInteger(layout.timeUnitMs) || layout.timeUnitMs < 1) {
    throw invalid(layout, `timeUnitMs must be a positive integer, got ${layout.timeUnitMs}`);
  }
  if (!Number.isSafeInteger(layout.epochMs) || layout.epochMs < 0) {
    throw invalid(
      layout,
      `epochMs must be a non-negative integer (Unix ms), got ${layout.epochMs}`,
    );
  }
  if (layout.epochMs > nowMs) {
    throw invalid(
      layout,
      `epoch ${new Date(layout.epochMs).toISOString()} is in the future; pick a fixed past date`,
    );
  }
  if (
    layout.fieldOrder !== "datacenter-machine-sequence" &&
    layout.fieldOrder !== "sequence-datacenter-machine"
  ) {
    throw invalid(
      layout,
      `fieldOrder must be datacenter-machine-sequence or sequence-datacenter-machine`,
    );
  }
  return geometryOf(layout);
}

/** Geometry without the epoch check (decoding needs no clock). */
export function geometryOf(layout: Layout): LayoutGeometry {
  const { timestampBits, datacenterBits, machineBits, sequenceBits } = layout;
  let sequenceShift: number;
  let datacenterShift: number;
  let machineShift: number;
  if (layout.fieldOrder === "datacenter-machine-sequence") {
    sequenceShift = 0;
    machineShift = sequenceBits;
    datacenterShift = sequenceBits + machineBits;
  } else {
    machineShift = 0;
    datacenterShift = machineBits;
    sequenceShift = machineBits + datacenterBits;
  }
  return {
    timestampShift: datacenterBits + machineBits + sequenceBits,
    datacenterShift,
    machineShift,
    sequenceShift,
    maxTimestamp: 2 ** timestampBits - 1,
    maxDatacenter: 2 ** datacenterBits - 1,
    maxMachine: 2 ** machineBits - 1,
    maxSequence: 2 ** sequenceBits - 1,
    idsPerUnit: 2 ** sequenceBits,
  };
}

/** The most ids one worker can issue per second under this layout. */
export function theoreticalIdsPerSecond(layout: Layout): number {
  return (2 ** layout.sequenceBits * 1000) / layout.timeUnitMs;
}
