/**
 * The generator: the Sequencer (pure decisions) wrapped in a thin shell that
 * reads the injected clock, waits when told to, writes reservations to the
 * state file, and turns grants into ids.
 *
 * Speed: everything above the sequence field (timestamp, datacenter, machine)
 * is the same for every id of one time unit, so it is computed once per unit
 * ("the high part"). Batches are written as two 32-bit words per id straight
 * into a BigUint64Array, with no bigint allocated per id.
 */
import { endianness } from "node:os";
import { type Clock, sleepUntil, systemClock } from "./clock.js";
import {
  DEFAULT_MAX_BACKWARDS_MS,
  DEFAULT_MAX_STARTUP_WAIT_MS,
  DEFAULT_RESERVE_AHEAD_MS,
  MAX_LAG_MS,
} from "./constants.js";
import { ClockBehindReservationError, SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import { type Layout, type LayoutGeometry, validateLayout } from "./layout.js";
import { NEED_RESERVATION, Sequencer } from "./sequencer.js";
import {
  checkStateMatchesLayout,
  readStateFile,
  type StateRecord,
  writeStateFile,
} from "./state-file.js";

/** Something that may veto issuing, checked before every grant (a worker-id lease). */
export interface IssueGuard {
  /** Throws (e.g. LeaseLostError) when ids must not be issued at `nowMs`. */
  assertCanIssue(nowMs: number): void;
}

export interface GeneratorOptions {
  layout: Layout;
  /** Datacenter id; must fit datacenterBits (0 for layouts without the field). */
  datacenter?: number;
  machine: number;
  clock?: Clock;
  /** Clock steps back of at most this many ms are waited out; larger ones throw ClockBackwardsError. */
  maxBackwardsMs?: number;
  /**
   * Ids may carry a timestamp up to this many ms behind the clock (default 0:
   * always the current time unit). Above 0, time units that passed while the
   * process was descheduled are filled afterwards, so a busy machine still
   * reaches the layout's throughput ceiling; decoded timestamps are then up
   * to this much earlier than the moment of issue. Ordering and uniqueness
   * are unaffected.
   */
  maxLagMs?: number;
  /** Path of the restart-safety state file; without it, restarts rely on the clock alone. */
  stateFile?: string;
  reserveAheadMs?: number;
  /** At start, how long to wait for the clock to pass a previous run's reservation before refusing. */
  maxStartupWaitMs?: number;
  /** Issue only ids with timestamps after this Unix ms (a lease's high-water mark). */
  startAfterMs?: number;
  guard?: IssueGuard;
}

const LITTLE_ENDIAN = endianness() === "LE";
/** Positions of an id's low and high 32-bit words inside a BigUint64Array's buffer. */
const LOW_WORD = LITTLE_ENDIAN ? 0 : 1;
const HIGH_WORD = LITTLE_ENDIAN ? 1 : 0;
const DECIMAL_SPLIT = 1_000_000_000;
const DECIMAL_SPLIT_BIG = 1_000_000_000n;
/** Sequence values are precomputed as bigints when there are at most this many. */
const SEQUENCE_TABLE_MAX = 65_536;

function checkWorkerId(field: string, value: number, max: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SnowflakeError(
      SnowflakeErrorCode.WORKER_ID_OUT_OF_RANGE,
      `${field} id ${value} does not fit the layout's ${bits}-bit ${field} field (0..${max})`,
    );
  }
}

export class SnowflakeGenerator {
  readonly layout: Layout;
  readonly geometry: LayoutGeometry;
  private datacenterId: number;
  private machineId: number;

  private readonly clock: Clock;
  private readonly sequencer: Sequencer;
  private readonly guard: IssueGuard | null;
  private readonly stateFile: string | null;
  private readonly reserveAheadUnits: number;
  private readonly maxStartupWaitMs: number;
  private readonly epochMs: number;
  private readonly timeUnitMs: number;
  private previousReservedUntilMs: number | null = null;

  // Everything above the sequence field, for the unit `highUnit`.
  private highUnit = -1;
  private high = 0n;
  private highWordHigh = 0;
  private highWordLow = 0;
  private decimalPrefix = "";
  private decimalLow = 0;
  private workerBits = 0n;

  private readonly sequenceMultiplier: number;
  private readonly sequenceMultiplierBig: bigint;
  private readonly sequenceInLowWord: boolean;
  private readonly sequenceTable: bigint[] | null;
  private issued = 0;
  private closed = false;
  /** Where tryAcquire() asked the caller to wait until (Unix ms). */
  private waitTargetMs = 0;

  constructor(options: GeneratorOptions) {
    this.clock = options.clock ?? systemClock;
    this.layout = options.layout;
    this.geometry = validateLayout(options.layout, this.clock.nowMs());
    this.epochMs = options.layout.epochMs;
    this.timeUnitMs = options.layout.timeUnitMs;
    this.datacenterId = options.datacenter ?? 0;
    this.machineId = options.machine;
    this.checkWorkerIds(this.datacenterId, this.machineId);
    this.guard = options.guard ?? null;
    this.stateFile = options.stateFile ?? null;
    const reserveAheadMs = options.reserveAheadMs ?? DEFAULT_RESERVE_AHEAD_MS;
    this.reserveAheadUnits = Math.max(1, Math.ceil(reserveAheadMs / this.timeUnitMs));
    this.maxStartupWaitMs = options.maxStartupWaitMs ?? DEFAULT_MAX_STARTUP_WAIT_MS;
    const maxBackwardsMs = options.maxBackwardsMs ?? DEFAULT_MAX_BACKWARDS_MS;
    if (!Number.isInteger(maxBackwardsMs) || maxBackwardsMs < 0) {
      throw new SnowflakeError(
        SnowflakeErrorCode.CONFIG_INVALID,
        `maxBackwardsMs must be a non-negative integer, got ${maxBackwardsMs}`,
      );
    }

    const maxLagMs = options.maxLagMs ?? 0;
    if (!Number.isInteger(maxLagMs) || maxLagMs < 0 || maxLagMs > MAX_LAG_MS) {
      throw new SnowflakeError(
        SnowflakeErrorCode.CONFIG_INVALID,
        `maxLagMs must be an integer in 0..${MAX_LAG_MS}, got ${maxLagMs}`,
      );
    }

    // The floor: no unit up to a previous run's reservation or the given mark may be used.
    let floorReservedUntilMs: number | null = options.startAfterMs ?? null;
    if (this.stateFile !== null) {
      const record = readStateFile(this.stateFile);
      if (record !== null) {
        checkStateMatchesLayout(this.stateFile, record, this.layout);
        this.previousReservedUntilMs = record.reservedUntilMs;
        floorReservedUntilMs = Math.max(floorReservedUntilMs ?? 0, record.reservedUntilMs);
      }
    }
    const floorUnit = floorReservedUntilMs === null ? 0 : this.firstUnitAfter(floorReservedUntilMs);
    this.sequencer = new Sequencer({
      maxSequence: this.geometry.maxSequence,
      maxTimestamp: this.geometry.maxTimestamp,
      timeUnitMs: this.timeUnitMs,
      maxBackwardsMs,
      maxLagUnits: Math.floor(maxLagMs / this.timeUnitMs),
      floorUnit,
      floorReservedUntilMs,
      maxStartupWaitMs: this.maxStartupWaitMs,
      reservedUntilUnit: this.stateFile === null ? Number.POSITIVE_INFINITY : floorUnit - 1,
    });

    const { sequenceShift, maxSequence } = this.geometry;
    this.sequenceMultiplier = 2 ** sequenceShift;
    this.sequenceMultiplierBig = BigInt(this.sequenceMultiplier);
    this.sequenceInLowWord = sequenceShift + this.layout.sequenceBits <= 32;
    this.sequenceTable =
      maxSequence < SEQUENCE_TABLE_MAX
        ? Array.from({ length: maxSequence + 1 }, (_, s) => BigInt(s) * this.sequenceMultiplierBig)
        : null;
    this.computeWorkerBits();
  }

  get datacenter(): number {
    return this.datacenterId;
  }

  get machine(): number {
    return this.machineId;
  }

  /** Ids issued by this generator. */
  get issuedTotal(): number {
    return this.issued;
  }

  /** Times a time unit's sequence ran out and the generator waited for the next unit. */
  get overflowWaits(): number {
    return this.sequencer.overflowWaits;
  }

  /** Times the clock was found behind the last unit used (waited out or refused). */
  get backwardsEvents(): number {
    return this.sequencer.backwardsEvents;
  }

  /** The end (Unix ms) of the last time unit ids were issued in; null before the first id. */
  get lastTimestampMs(): number | null {
    return this.sequencer.started ? this.unitStartMs(this.sequencer.lastUnit + 1) - 1 : null;
  }

  /** One id. */
  next(): bigint {
    this.acquire(1);
    const sequence = this.sequencer.grantFirstSequence;
    if (this.sequencer.grantUnit !== this.highUnit) this.computeHigh(this.sequencer.grantUnit);
    const table = this.sequenceTable;
    return (
      this.high |
      (table !== null ? table[sequence]! : BigInt(sequence) * this.sequenceMultiplierBig)
    );
  }

  /** One id as a decimal string. */
  nextString(): string {
    return this.next().toString();
  }

  /** `count` ids, ascending, in a BigUint64Array (no bigint is allocated per id). */
  nextBatch(count: number): BigUint64Array {
    this.checkCount(count);
    return this.fill(new BigUint64Array(count));
  }

  /**
   * Fills `out` (any BigUint64Array, or a subarray of one) with new ids,
   * ascending, and returns it: the batch call for callers that reuse a buffer.
   */
  fill(out: BigUint64Array): BigUint64Array {
    const count = out.length;
    const words = new Uint32Array(out.buffer, out.byteOffset, count * 2);
    let filled = 0;
    while (filled < count) {
      const granted = this.acquire(count - filled);
      const first = this.sequencer.grantFirstSequence;
      if (this.sequencer.grantUnit !== this.highUnit) this.computeHigh(this.sequencer.grantUnit);
      if (this.sequenceInLowWord) {
        const highWord = this.highWordHigh;
        const multiplier = this.sequenceMultiplier;
        // The sequence bits are disjoint from the high part's, so adding is OR-ing.
        let lowWord = this.highWordLow + first * multiplier;
        let index = filled * 2;
        const end = (filled + granted) * 2;
        while (index < end) {
          words[index + LOW_WORD] = lowWord;
          words[index + HIGH_WORD] = highWord;
          lowWord += multiplier;
          index += 2;
        }
      } else {
        for (let i = 0; i < granted; i++) {
          out[filled + i] = this.high | (BigInt(first + i) * this.sequenceMultiplierBig);
        }
      }
      filled += granted;
    }
    return out;
  }

  /** `count` ids, ascending, as decimal strings (for JSON, where numbers would lose precision). */
  nextStrings(count: number): string[] {
    this.checkCount(count);
    const out = new Array<string>(count);
    let filled = 0;
    while (filled < count) {
      const granted = this.acquire(count - filled);
      this.writeStrings(out, filled, granted);
      filled += granted;
    }
    return out;
  }

  /**
   * Like nextStrings, but waits for the next time unit without blocking the
   * event loop (a service keeps serving other requests meanwhile). Concurrent
   * calls interleave; each result is still strictly increasing.
   */
  async nextStringsAsync(count: number): Promise<string[]> {
    this.checkCount(count);
    const out = new Array<string>(count);
    let filled = 0;
    while (filled < count) {
      const granted = this.tryAcquire(count - filled);
      if (granted === 0) {
        await sleepUntil(this.clock, this.waitTargetMs);
        continue;
      }
      this.writeStrings(out, filled, granted);
      filled += granted;
    }
    return out;
  }

  /** Writes the ids of the grant just made as decimal strings into out[at..at+granted). */
  private writeStrings(out: string[], at: number, granted: number): void {
    const first = this.sequencer.grantFirstSequence;
    if (this.sequencer.grantUnit !== this.highUnit) this.computeHigh(this.sequencer.grantUnit);
    const prefix = this.decimalPrefix;
    const multiplier = this.sequenceMultiplier;
    let low = this.decimalLow + first * multiplier;
    for (let i = 0; i < granted; i++) {
      // Fast path: only the last nine decimal digits change within the unit.
      if (low < DECIMAL_SPLIT) {
        out[at + i] = prefix === "" ? String(low) : prefix + String(DECIMAL_SPLIT + low).slice(1);
      } else {
        out[at + i] = (this.high | (BigInt(first + i) * this.sequenceMultiplierBig)).toString();
      }
      low += multiplier;
    }
  }

  /**
   * How long (ms) the next id would block waiting for the clock to pass a
   * previous run's reservation or a lease mark; 0 when it would not.
   */
  startupWaitMs(): number {
    if (this.sequencer.started) return 0;
    return Math.max(0, this.unitStartMs(this.sequencer.lastUnit + 1) - this.clock.nowMs());
  }

  /**
   * Resolves once the clock has passed any previous run's reservation (so the
   * next id will not block on it), or rejects with ClockBehindReservationError
   * when that would take longer than maxStartupWaitMs. Lets a service wait
   * without blocking its event loop.
   */
  async waitUntilReady(): Promise<void> {
    for (;;) {
      if (this.sequencer.started) return;
      const firstUnitMs = this.unitStartMs(this.sequencer.lastUnit + 1);
      const delayMs = firstUnitMs - this.clock.nowMs();
      if (delayMs <= 0) return;
      if (delayMs > this.maxStartupWaitMs) {
        throw new ClockBehindReservationError(delayMs, firstUnitMs - 1, this.maxStartupWaitMs);
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /**
   * Switches worker ids (a lease was re-acquired, possibly a different id).
   * Later ids stay above every id issued so far, and use no timestamp up to
   * `startAfterMs` (the previous holder's high-water mark).
   */
  rebind(datacenter: number, machine: number, startAfterMs: number | null): void {
    this.checkWorkerIds(datacenter, machine);
    this.datacenterId = datacenter;
    this.machineId = machine;
    this.computeWorkerBits();
    this.highUnit = -1;
    const floorUnit = startAfterMs === null ? 0 : this.firstUnitAfter(startAfterMs);
    this.sequencer.raiseFloor(floorUnit, startAfterMs);
  }

  /**
   * Stops issuing and, with a state file, records the last timestamp actually
   * used, so the next run need not wait out the unused part of the reservation.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stateFile === null) return;
    const lastUsedMs = this.sequencer.started
      ? this.unitStartMs(this.sequencer.lastUnit + 1) - 1
      : (this.previousReservedUntilMs ?? -1);
    if (lastUsedMs < 0) return;
    this.writeState(Math.max(lastUsedMs, this.previousReservedUntilMs ?? 0), true);
  }

  /**
   * Claims up to `wanted` ids without waiting: returns how many were granted,
   * or 0 when the caller must first wait until `waitTargetMs`.
   */
  private tryAcquire(wanted: number): number {
    if (this.closed) {
      throw new SnowflakeError(SnowflakeErrorCode.CLOSED, "the generator is closed");
    }
    for (;;) {
      const nowMs = this.clock.nowMs();
      if (this.guard !== null) this.guard.assertCanIssue(nowMs);
      if (nowMs < this.epochMs) {
        throw new SnowflakeError(
          SnowflakeErrorCode.TIMESTAMP_OUT_OF_RANGE,
          `clock (${new Date(nowMs).toISOString()}) is before the layout's epoch (${new Date(this.epochMs).toISOString()})`,
        );
      }
      const nowUnit =
        this.timeUnitMs === 1
          ? nowMs - this.epochMs
          : Math.floor((nowMs - this.epochMs) / this.timeUnitMs);
      const result = this.sequencer.claim(nowUnit, wanted);
      if (result > 0) {
        this.issued += result;
        return result;
      }
      if (result !== NEED_RESERVATION) {
        this.waitTargetMs = this.unitStartMs(this.sequencer.waitUntilUnit);
        return 0;
      }
      this.reserveThrough(this.sequencer.reserveUnit + this.reserveAheadUnits);
    }
  }

  /** Claims up to `wanted` ids (at least one), blocking on the clock when told to wait. */
  private acquire(wanted: number): number {
    for (;;) {
      const granted = this.tryAcquire(wanted);
      if (granted > 0) return granted;
      this.clock.waitUntilMs(this.waitTargetMs);
    }
  }

  /** Durably records that this run may use units up to `unit`, then lets the sequencer use them. */
  private reserveThrough(unit: number): void {
    const untilMs = this.unitStartMs(unit + 1) - 1;
    this.writeState(untilMs, false);
    this.sequencer.reserved(unit);
  }

  private writeState(reservedUntilMs: number, clean: boolean): void {
    if (this.stateFile === null) return;
    const record: StateRecord = {
      reservedUntilMs,
      epochMs: this.epochMs,
      timeUnitMs: this.timeUnitMs,
      layout: this.layout.name,
      datacenter: this.datacenterId,
      machine: this.machineId,
      writtenAtMs: this.clock.nowMs(),
      clean,
    };
    writeStateFile(this.stateFile, record);
  }

  private unitStartMs(unit: number): number {
    return this.epochMs + unit * this.timeUnitMs;
  }

  /** The first unit that starts after Unix ms `ms`. */
  private firstUnitAfter(ms: number): number {
    if (ms < this.epochMs) return 0;
    return Math.floor((ms - this.epochMs) / this.timeUnitMs) + 1;
  }

  private checkWorkerIds(datacenter: number, machine: number): void {
    const { maxDatacenter, maxMachine } = this.geometry;
    checkWorkerId("datacenter", datacenter, maxDatacenter, this.layout.datacenterBits);
    checkWorkerId("machine", machine, maxMachine, this.layout.machineBits);
  }

  private checkCount(count: number): void {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new SnowflakeError(
        SnowflakeErrorCode.COUNT_INVALID,
        `count must be a positive integer, got ${count}`,
      );
    }
  }

  private computeWorkerBits(): void {
    const { datacenterShift, machineShift } = this.geometry;
    this.workerBits =
      (BigInt(this.datacenterId) << BigInt(datacenterShift)) |
      (BigInt(this.machineId) << BigInt(machineShift));
  }

  private computeHigh(unit: number): void {
    const high = (BigInt(unit) << BigInt(this.geometry.timestampShift)) | this.workerBits;
    this.high = high;
    this.highUnit = unit;
    this.highWordHigh = Number(high >> 32n);
    this.highWordLow = Number(high & 0xffffffffn);
    const prefix = high / DECIMAL_SPLIT_BIG;
    this.decimalPrefix = prefix === 0n ? "" : prefix.toString();
    this.decimalLow = Number(high % DECIMAL_SPLIT_BIG);
  }
}
