/**
 * The generator never reads the time itself: it asks an injected Clock. The
 * system clock is the real one; ManualClock lets tests (and simulations) step
 * time forwards and backwards deterministically.
 */

export interface Clock {
  /** Wall-clock time as integer Unix milliseconds. */
  nowMs(): number;
  /**
   * Blocks until nowMs() >= targetMs. The generator only asks for short waits
   * (the rest of a time unit, or a clock step back within its bound).
   */
  waitUntilMs(targetMs: number): void;
}

// One shared cell for Atomics.wait, used purely as a sleep that needs no event loop.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeping is coarse; the last millisecond or two is spun so waits end on time. */
const SPIN_LAST_MS = 2;

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  waitUntilMs(targetMs: number): void {
    for (;;) {
      const remainingMs = targetMs - Date.now();
      if (remainingMs <= 0) return;
      if (remainingMs > SPIN_LAST_MS) Atomics.wait(sleepCell, 0, 0, remainingMs - SPIN_LAST_MS);
    }
  },
};

/** A clock that moves only when told to; waits jump it forward and are recorded. */
export class ManualClock implements Clock {
  private currentMs: number;
  /** Every wait the generator asked for, as [fromMs, toMs]. */
  readonly waits: Array<[number, number]> = [];

  constructor(startMs: number) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  waitUntilMs(targetMs: number): void {
    this.waits.push([this.currentMs, targetMs]);
    if (targetMs > this.currentMs) this.currentMs = targetMs;
  }

  set(ms: number): void {
    this.currentMs = ms;
  }

  advance(ms: number): void {
    this.currentMs += ms;
  }
}
