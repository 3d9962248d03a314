/**
 * The generator's core: a deterministic state machine with no clock and no I/O.
 * Input: the current time unit and how many ids are wanted. Output: a grant
 * (a run of sequence numbers within one unit) or an instruction (wait until a
 * unit, reserve time first), or a refusal (a typed error).
 *
 * The order of checks is the safety argument: the clock is compared with the
 * last unit used BEFORE the sequence is touched, and the sequence is reset only
 * when the clock has moved strictly forward. So a rollback can never reset the
 * sequence into numbers already issued, and a full unit is never wrapped.
 *
 * It returns numbers, not objects, so the hot path allocates nothing; the
 * details of the last decision are left in public fields.
 */
import {
  ClockBackwardsError,
  ClockBehindReservationError,
  SnowflakeError,
  SnowflakeErrorCode,
} from "./errors.js";

/** claim() results below 1: what the caller must do before asking again. */
export const WAIT_OVERFLOW = 0;
export const WAIT_BACKWARDS = -1;
export const NEED_RESERVATION = -2;

export interface SequencerOptions {
  maxSequence: number;
  maxTimestamp: number;
  timeUnitMs: number;
  /** Clock steps back of at most this many ms are waited out; larger ones refuse. */
  maxBackwardsMs: number;
  /**
   * How many units behind the clock a grant may be (0: always the current
   * unit, as Twitter's Snowflake). Above 0, units skipped while the process was
   * descheduled are filled later, trading timestamp accuracy for throughput.
   */
  maxLagUnits: number;
  /** The first unit this run may use (past a previous run's reservation); 0 if none. */
  floorUnit: number;
  /** Unix ms of the reservation that set floorUnit, for error messages; null if none. */
  floorReservedUntilMs: number | null;
  /** How long the run may wait at start for the clock to reach floorUnit. */
  maxStartupWaitMs: number;
  /** Highest unit reserved so far (Infinity when reservations are not used). */
  reservedUntilUnit: number;
}

export class Sequencer {
  /** The highest unit ids were (or, before the first id, may be treated as) issued in. */
  lastUnit: number;
  /** Next sequence number in lastUnit; maxSequence + 1 means the unit is used up. */
  nextSequence: number;
  reservedUntilUnit: number;
  /** True once any id was granted; until then a clock behind floorUnit is a restart problem. */
  started = false;

  // Outputs of the last claim().
  grantUnit = 0;
  grantFirstSequence = 0;
  waitUntilUnit = 0;
  reserveUnit = 0;

  // Counters for metrics.
  overflowWaits = 0;
  backwardsEvents = 0;

  private readonly maxSequence: number;
  private readonly maxTimestamp: number;
  private readonly timeUnitMs: number;
  private readonly maxBackwardsUnits: number;
  private readonly maxLagUnits: number;
  private readonly maxBackwardsMs: number;
  private floorReservedUntilMs: number | null;
  private readonly maxStartupWaitMs: number;

  constructor(options: SequencerOptions) {
    this.maxSequence = options.maxSequence;
    this.maxTimestamp = options.maxTimestamp;
    this.timeUnitMs = options.timeUnitMs;
    this.maxBackwardsMs = options.maxBackwardsMs;
    this.maxBackwardsUnits = Math.floor(options.maxBackwardsMs / options.timeUnitMs);
    this.maxLagUnits = options.maxLagUnits;
    this.floorReservedUntilMs = options.floorReservedUntilMs;
    this.maxStartupWaitMs = options.maxStartupWaitMs;
    this.reservedUntilUnit = options.reservedUntilUnit;
    // Pretend the unit before the floor is used up: the first grant is then at floorUnit or later.
    this.lastUnit = options.floorUnit - 1;
    this.nextSequence = this.maxSequence + 1;
  }

  /**
   * Asks for up to `wanted` ids at `nowUnit`. Returns how many were granted
   * (>= 1; they are grantFirstSequence.. in grantUnit), or WAIT_OVERFLOW /
   * WAIT_BACKWARDS (wait until waitUntilUnit, then ask again), or
   * NEED_RESERVATION (reserve up to at least reserveUnit, then ask again).
   * Throws ClockBackwardsError / ClockBehindReservationError when refusing.
   */
  claim(nowUnit: number, wanted: number): number {
    if (nowUnit > this.lastUnit) {
      // With a lag allowance, units the clock passed while this process was not
      // running may still be used, as long as they are within maxLagUnits of now.
      // Only units after the first grant count as skipped; a (re)start begins at the clock.
      const oldestUsableUnit = this.started ? nowUnit - this.maxLagUnits : nowUnit;
      const keepLastUnit =
        oldestUsableUnit <= this.lastUnit && this.nextSequence <= this.maxSequence;
      if (!keepLastUnit) {
        const unit = Math.max(oldestUsableUnit, this.lastUnit + 1);
        if (unit > this.maxTimestamp) {
          throw new SnowflakeError(
            SnowflakeErrorCode.TIMESTAMP_OUT_OF_RANGE,
            `timestamp ${unit} is past the largest the layout can hold (${this.maxTimestamp}); the layout's epoch has run out`,
          );
        }
        if (unit > this.reservedUntilUnit) {
          this.reserveUnit = nowUnit;
          return NEED_RESERVATION;
        }
        this.lastUnit = unit;
        this.nextSequence = 0;
      }
    } else if (nowUnit < this.lastUnit) {
      return this.clockBehind(nowUnit);
    } else if (this.nextSequence > this.maxSequence) {
      // The unit is used up: wait for the next one; never wrap into numbers already issued.
      if (this.started) this.overflowWaits++;
      this.waitUntilUnit = this.lastUnit + 1;
      return WAIT_OVERFLOW;
    }
    const available = this.maxSequence + 1 - this.nextSequence;
    const granted = Math.min(wanted, available);
    this.grantUnit = this.lastUnit;
    this.grantFirstSequence = this.nextSequence;
    this.nextSequence += granted;
    this.started = true;
    return granted;
  }

  private clockBehind(nowUnit: number): number {
    const behindUnits = this.lastUnit - nowUnit;
    const offsetMs = behindUnits * this.timeUnitMs;
    if (!this.started && this.floorReservedUntilMs !== null) {
      // Not a step back during this run: the clock has not yet passed what a previous run reserved.
      if (offsetMs > this.maxStartupWaitMs) {
        throw new ClockBehindReservationError(
          offsetMs,
          this.floorReservedUntilMs,
          this.maxStartupWaitMs,
        );
      }
      this.waitUntilUnit = this.lastUnit + 1;
      return WAIT_BACKWARDS;
    }
    this.backwardsEvents++;
    if (behindUnits > this.maxBackwardsUnits)
      throw new ClockBackwardsError(offsetMs, this.maxBackwardsMs);
    // Waiting until lastUnit (not lastUnit + 1) lets the rest of that unit's sequence be used.
    this.waitUntilUnit = this.lastUnit;
    return WAIT_BACKWARDS;
  }

  /**
   * Worker ids changed (a lease was re-acquired): ids must stay above every id
   * issued so far, so the current unit is closed; and none may use a unit up to
   * `floorUnit - 1` (a previous holder's mark), waited out with start-up rules.
   */
  raiseFloor(floorUnit: number, reservedUntilMs: number | null): void {
    this.nextSequence = this.maxSequence + 1;
    if (floorUnit - 1 > this.lastUnit) {
      this.lastUnit = floorUnit - 1;
      this.started = false;
      this.floorReservedUntilMs = reservedUntilMs;
    }
  }

  /** Records that time up to and including `unit` is now reserved. */
  reserved(unit: number): void {
    if (unit > this.reservedUntilUnit) this.reservedUntilUnit = unit;
  }
}
