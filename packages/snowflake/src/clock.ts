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

/**
 * Waits sleep in steps this short (about 0.15 ms with timer slack) rather than
 * spin: the generator needs only ~60 us of CPU per millisecond, and a thread
 * that sleeps is scheduled promptly when it wakes, while one that spins is
 * descheduled for whole milliseconds on a busy machine, and every millisecond
 * it misses is 4 096 ids it cannot issue.
 */
const SLEEP_STEP_MS = 0.1;

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  waitUntilMs(targetMs: number): void {
    for (;;) {
      const remainingMs = targetMs - Date.now();
      if (remainingMs <= 0) return;
      // Sleep coarsely while more than a millisecond remains, then in short steps.
      Atomics.wait(sleepCell, 0, 0, remainingMs > 1 ? remainingMs - 1 : SLEEP_STEP_MS);
    }
  },
};

/**
 * Waits until `clock.nowMs() >= targetMs` without blocking the event loop when
 * the clock is the system clock (timers fire on whole milliseconds, which is
 * what a time unit needs); any other clock is waited on synchronously, so
 * injected clocks stay deterministic.
 */
export async function sleepUntil(clock: Clock, targetMs: number): Promise<void> {
  if (clock !== systemClock) {
    clock.waitUntilMs(targetMs);
    return;
  }
  const remainingMs = targetMs - Date.now();
  if (remainingMs > 0) await new Promise((resolve) => setTimeout(resolve, remainingMs));
  // Timers may fire a little early relative to Date.now(); finish the last fraction here.
  systemClock.waitUntilMs(targetMs);
}

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
