/**
 * Worker ids leased from Redis, so processes need no hand-assigned machine
 * ids and a crashed process's id is recycled.
 *
 * Keys (for datacenter D and machine id M under prefix P):
 *   P:dc:D:machine:M        the lease: a random token, with a PX expiry (SET NX PX)
 *   P:dc:D:machine:M:mark   high-water mark, Unix ms: no holder of M has used or
 *                           may use a later timestamp than this; never expires
 *
 * A holder renews every TTL/3 with a compare-and-extend script (only if the
 * key still holds its token), which also raises the mark to "now + TTL". It
 * issues ids only while its own deadline (send time of the last successful
 * renewal + TTL - a safety margin, on the monotonic clock) has not passed, so it
 * stops before Redis could hand the id to anyone else, and only at wall times
 * up to the mark it last published (a clock jumping forward pauses issuing
 * until the next renewal publishes a later mark). A new holder starts
 * after the mark, so even a holder whose clock is behind the previous one's
 * cannot reuse its timestamps. A lost lease (renewal refused, or not renewed in
 * time) stops issuing with LeaseLostError, and the holder keeps trying to
 * acquire an id again (the lowest free one, which may differ).
 *
 * The acquire script scans ids in one round trip, so it touches keys it did not
 * declare: it runs on a single Redis (or a cluster with the prefix in one slot).
 */
import { Redis } from "ioredis";
import {
  DEFAULT_LEASE_KEY_PREFIX,
  DEFAULT_LEASE_TTL_MS,
  LEASE_RENEWALS_PER_TTL,
  LEASE_SAFETY_MARGIN_MS,
} from "./constants.js";
import { LeaseLostError, SnowflakeError, SnowflakeErrorCode } from "./errors.js";
import type { IssueGuard } from "./generator.js";

// ARGV: prefix (ending in "machine:"), token, ttlMs, count, markMs. Returns {id, previousMark} or -1.
const ACQUIRE_SCRIPT = `
for i = 0, tonumber(ARGV[4]) - 1 do
  local key = ARGV[1] .. i
  if redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[3]) then
    local markKey = key .. ':mark'
    local previous = redis.call('GET', markKey)
    if previous == false or tonumber(previous) < tonumber(ARGV[5]) then
      redis.call('SET', markKey, ARGV[5])
    end
    return {i, previous or '-1'}
  end
end
return -1`;

// KEYS: lease, mark. ARGV: token, ttlMs, markMs. Returns 1 if still ours (extended), else 0.
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local previous = redis.call('GET', KEYS[2])
  if previous == false or tonumber(previous) < tonumber(ARGV[3]) then
    redis.call('SET', KEYS[2], ARGV[3])
  end
  return 1
end
return 0`;

// KEYS: lease, mark. ARGV: token, lastUsedMs. Lowers the mark to what was really used.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface LeaseOptions {
  /** redis://host:port[/db] */
  url: string;
  datacenter: number;
  /** Largest machine id to lease (2^machineBits - 1). */
  maxMachine: number;
  ttlMs?: number;
  keyPrefix?: string;
  /** Wall clock for marks (Unix ms); defaults to Date.now. */
  nowMs?: () => number;
  /** Told about losses and re-acquisitions (for logs). */
  onEvent?: (event: LeaseEvent) => void;
}

export type LeaseEvent =
  | { kind: "acquired"; machine: number; previousMarkMs: number | null }
  | { kind: "lost"; machine: number; reason: string }
  | { kind: "renewal-failed"; machine: number; error: string }
  | { kind: "released"; machine: number };

type LeaseState = "held" | "lost" | "closed";

interface Acquired {
  machine: number;
  previousMarkMs: number | null;
  /** The mark now in Redis: max(previous mark, our now + TTL). */
  markMs: number;
  sentAtMonotonicMs: number;
}

export class WorkerIdLease implements IssueGuard {
  readonly datacenter: number;
  private machineId: number;
  private previousMark: number | null;
  private state: LeaseState = "held";
  private lostReason = "";
  private deadlineMonotonicMs: number;
  /** The mark Redis holds for us: we may issue at wall times up to this. */
  private publishedMarkMs: number;
  /** Wall ms of the last successful check; the same ms again needs no monotonic read. */
  private lastCheckedMs = -1;
  private readonly token: string;
  private readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly prefix: string;
  private readonly maxMachine: number;
  private readonly redis: Redis;
  private readonly nowMs: () => number;
  private readonly onEvent: (event: LeaseEvent) => void;
  private readonly reacquireListeners: Array<
    (machine: number, previousMarkMs: number | null) => void
  > = [];
  private timer: NodeJS.Timeout | null = null;
  private tickRunning = false;

  private constructor(redis: Redis, options: LeaseOptions, token: string, acquired: Acquired) {
    this.redis = redis;
    this.datacenter = options.datacenter;
    this.maxMachine = options.maxMachine;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.marginMs = Math.min(LEASE_SAFETY_MARGIN_MS, Math.floor(this.ttlMs / 4));
    this.prefix = leaseKeyPrefix(options.keyPrefix ?? DEFAULT_LEASE_KEY_PREFIX, options.datacenter);
    this.nowMs = options.nowMs ?? Date.now;
    this.onEvent = options.onEvent ?? (() => {});
    this.token = token;
    this.machineId = acquired.machine;
    this.previousMark = acquired.previousMarkMs;
    this.deadlineMonotonicMs = acquired.sentAtMonotonicMs + this.ttlMs - this.marginMs;
    this.publishedMarkMs = acquired.markMs;
    this.timer = setInterval(
      () => void this.tick(),
      Math.floor(this.ttlMs / LEASE_RENEWALS_PER_TTL),
    );
    this.timer.unref();
  }

  /** Connects to Redis and leases the lowest free machine id in the datacenter. */
  static async acquire(options: LeaseOptions): Promise<WorkerIdLease> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!Number.isInteger(ttlMs) || ttlMs < 100) {
      throw new SnowflakeError(
        SnowflakeErrorCode.CONFIG_INVALID,
        `lease TTL must be an integer >= 100 ms, got ${ttlMs}`,
      );
    }
    const redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    });
    redis.on("error", () => {
      // Connection errors surface as failed commands (and a lost lease); the event itself is noise.
    });
    try {
      await redis.connect();
      const token = `${process.pid}-${crypto.randomUUID()}`;
      const prefix = leaseKeyPrefix(
        options.keyPrefix ?? DEFAULT_LEASE_KEY_PREFIX,
        options.datacenter,
      );
      const acquired = await runAcquire(
        redis,
        prefix,
        token,
        ttlMs,
        options.maxMachine,
        (options.nowMs ?? Date.now)(),
      );
      if (acquired === null) {
        throw new SnowflakeError(
          SnowflakeErrorCode.LEASE_UNAVAILABLE,
          `all ${options.maxMachine + 1} machine ids of datacenter ${options.datacenter} are leased at ${options.url}`,
        );
      }
      const lease = new WorkerIdLease(redis, options, token, acquired);
      lease.onEvent({
        kind: "acquired",
        machine: acquired.machine,
        previousMarkMs: acquired.previousMarkMs,
      });
      return lease;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  get machine(): number {
    return this.machineId;
  }

  /** The mark previous holders of this id left (issue only after it); null for a fresh id. */
  get previousMarkMs(): number | null {
    return this.previousMark;
  }

  get held(): boolean {
    return this.state === "held" && performance.now() <= this.deadlineMonotonicMs;
  }

  assertCanIssue(nowMs: number): void {
    if (this.state !== "held") throw new LeaseLostError(this.lostReason);
    // Within one wall millisecond the monotonic deadline cannot have moved much: skip the read.
    if (nowMs === this.lastCheckedMs) return;
    if (performance.now() > this.deadlineMonotonicMs) {
      throw new LeaseLostError(
        `machine id ${this.machineId} not renewed within its ${this.ttlMs} ms TTL`,
      );
    }
    if (nowMs > this.publishedMarkMs) {
      throw new LeaseLostError(
        `the clock passed the lease's published mark (${new Date(this.publishedMarkMs).toISOString()}); waiting for a renewal`,
      );
    }
    this.lastCheckedMs = nowMs;
  }

  /** Called after a lost lease was re-acquired (before issuing resumes); the id may differ. */
  onReacquired(listener: (machine: number, previousMarkMs: number | null) => void): void {
    this.reacquireListeners.push(listener);
  }

  /**
   * Gives the id back (graceful shutdown), lowering its mark to `lastUsedMs`
   * (the last timestamp really used) so the next holder need not wait.
   */
  async release(lastUsedMs: number | null): Promise<void> {
    if (this.state === "closed") return;
    const wasHeld = this.state === "held";
    this.stop();
    try {
      if (wasHeld) {
        const mark = Math.max(lastUsedMs ?? 0, this.previousMark ?? 0);
        const { lease, markKey } = this.keys(this.machineId);
        await this.redis.eval(RELEASE_SCRIPT, 2, lease, markKey, this.token, String(mark));
        this.onEvent({ kind: "released", machine: this.machineId });
      }
    } finally {
      await this.redis.quit().catch(() => this.redis.disconnect());
    }
  }

  /** Stops renewing and drops the connection without releasing (what a crash looks like). */
  abandon(): void {
    if (this.state === "closed") return;
    this.stop();
    this.redis.disconnect();
  }

  private stop(): void {
    this.state = "closed";
    this.lostReason = "the lease was released";
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private keys(machine: number): { lease: string; markKey: string } {
    const lease = `${this.prefix}${machine}`;
    return { lease, markKey: `${lease}:mark` };
  }

  private async tick(): Promise<void> {
    if (this.tickRunning || this.state === "closed") return;
    this.tickRunning = true;
    try {
      if (this.state === "held") await this.renew();
      else await this.reacquire();
    } finally {
      this.tickRunning = false;
    }
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    const { lease, markKey } = this.keys(this.machineId);
    const markMs = this.nowMs() + this.ttlMs;
    try {
      const result = await this.redis.eval(
        RENEW_SCRIPT,
        2,
        lease,
        markKey,
        this.token,
        String(this.ttlMs),
        String(markMs),
      );
      if (this.state !== "held") return;
      if (result === 1) {
        this.deadlineMonotonicMs = sentAt + this.ttlMs - this.marginMs;
        this.publishedMarkMs = Math.max(this.publishedMarkMs, markMs);
      } else {
        this.markLost(`machine id ${this.machineId} expired or was taken by another holder`);
      }
    } catch (error) {
      if (this.state !== "held") return;
      const message = error instanceof Error ? error.message : String(error);
      this.onEvent({ kind: "renewal-failed", machine: this.machineId, error: message });
      if (performance.now() > this.deadlineMonotonicMs) {
        this.markLost(`machine id ${this.machineId} could not be renewed: ${message}`);
      }
    }
  }

  private markLost(reason: string): void {
    this.state = "lost";
    this.lostReason = reason;
    this.onEvent({ kind: "lost", machine: this.machineId, reason });
  }

  private async reacquire(): Promise<void> {
    let acquired: Acquired | null;
    try {
      acquired = await runAcquire(
        this.redis,
        this.prefix,
        this.token,
        this.ttlMs,
        this.maxMachine,
        this.nowMs(),
      );
    } catch {
      return; // Redis still unreachable; try again next tick.
    }
    if (acquired === null || this.state !== "lost") return;
    this.machineId = acquired.machine;
    this.previousMark = acquired.previousMarkMs;
    this.deadlineMonotonicMs = acquired.sentAtMonotonicMs + this.ttlMs - this.marginMs;
    this.publishedMarkMs = acquired.markMs;
    this.lastCheckedMs = -1;
    // Listeners (the generator's rebind) run before issuing is allowed again.
    for (const listener of this.reacquireListeners)
      listener(acquired.machine, acquired.previousMarkMs);
    this.state = "held";
    this.lostReason = "";
    this.onEvent({
      kind: "acquired",
      machine: acquired.machine,
      previousMarkMs: acquired.previousMarkMs,
    });
  }
}

function leaseKeyPrefix(prefix: string, datacenter: number): string {
  return `${prefix}:dc:${datacenter}:machine:`;
}

async function runAcquire(
  redis: Redis,
  prefix: string,
  token: string,
  ttlMs: number,
  maxMachine: number,
  nowMs: number,
): Promise<Acquired | null> {
  const sentAtMonotonicMs = performance.now();
  const markMs = nowMs + ttlMs;
  const reply = (await redis.eval(
    ACQUIRE_SCRIPT,
    0,
    prefix,
    token,
    String(ttlMs),
    String(maxMachine + 1),
    String(markMs),
  )) as number | [number, string];
  if (!Array.isArray(reply)) return null;
  const [machine, previous] = reply;
  const previousMarkMs = Number(previous);
  return {
    machine,
    previousMarkMs: previousMarkMs < 0 ? null : previousMarkMs,
    markMs: Math.max(markMs, previousMarkMs),
    sentAtMonotonicMs,
  };
}
