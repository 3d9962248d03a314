/**
 * Paces background writes to a byte rate: after writing, the caller asks how
 * long to wait so the running total stays under `bytesPerSecond`. The budget
 * is measured from the start of the current burst, so idle time is not banked
 * beyond one second's worth.
 */
export class RateLimiter {
  private windowStartMs = 0;
  private windowBytes = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  async pace(bytes: number): Promise<void> {
    if (!(this.bytesPerSecond > 0) || !Number.isFinite(this.bytesPerSecond)) return;
    const now = this.nowMs();
    if (now - this.windowStartMs > 1000) {
      this.windowStartMs = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    const dueMs = this.windowStartMs + (this.windowBytes / this.bytesPerSecond) * 1000;
    const waitMs = dueMs - now;
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
