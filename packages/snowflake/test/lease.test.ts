import { type RedisServer, startRedisServer } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLeasedGenerator,
  DEFAULT_CONFIG,
  decode,
  LeaseLostError,
  ManualClock,
  PRESETS,
  SnowflakeErrorCode,
  startIdService,
  WorkerIdLease,
} from "../src/index.js";

let redis: RedisServer;
let admin: Redis;
let prefixCounter = 0;
/** Each test gets its own key prefix, so tests sharing the server do not see each other's leases. */
const nextPrefix = () => `test${++prefixCounter}`;

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

async function eventually<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}: ${String(lastError)}`);
}

/** Waits until the generator refuses to issue (its lease is gone) and returns what it threw. */
function refusalOf(generator: { next(): bigint }, what: string): Promise<unknown> {
  return eventually(() => {
    try {
      generator.next();
    } catch (caught) {
      return caught;
    }
    throw new Error("still issuing");
  }, what);
}

describe("worker-id leases against a real redis-server", () => {
  it("concurrent leasers get distinct ids; when all are taken the next one is refused", async () => {
    const keyPrefix = nextPrefix();
    const options = { url: redis.url, datacenter: 2, maxMachine: 7, keyPrefix, ttlMs: 5_000 };
    const leases = await Promise.all(
      Array.from({ length: 8 }, () => WorkerIdLease.acquire(options)),
    );
    try {
      const machines = leases.map((lease) => lease.machine).sort((a, b) => a - b);
      expect(machines).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      await expect(WorkerIdLease.acquire(options)).rejects.toMatchObject({
        code: SnowflakeErrorCode.LEASE_UNAVAILABLE,
      });
      expect(await admin.get(`${keyPrefix}:dc:2:machine:3`)).not.toBeNull();
    } finally {
      await Promise.all(leases.map((lease) => lease.release(null)));
    }
    expect(await admin.exists(`${keyPrefix}:dc:2:machine:3`)).toBe(0);
  });

  it("a crashed holder's id expires and is recycled; the new holder starts after its mark", async () => {
    const keyPrefix = nextPrefix();
    const crashed = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: redis.url, keyPrefix, ttlMs: 1_000 },
    });
    expect(crashed.lease.machine).toBe(0);
    const lastOfCrashed = crashed.generator.nextBatch(1_000)[999]!;
    crashed.lease.abandon(); // no release: the key must expire on its own
    const second = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: redis.url, keyPrefix, ttlMs: 1_000 },
    });
    // Taken while the crashed lease was still alive: a different id.
    expect(second.lease.machine).toBe(1);
    await eventually(async () => {
      if ((await admin.exists(`${keyPrefix}:dc:0:machine:0`)) !== 0)
        throw new Error("still leased");
    }, "the crashed lease to expire");
    const third = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: redis.url, keyPrefix, ttlMs: 1_000 },
    });
    try {
      expect(third.lease.machine).toBe(0);
      expect(third.lease.previousMarkMs).toBeGreaterThanOrEqual(
        decode(lastOfCrashed, PRESETS.twitter).timestamp,
      );
      await third.generator.waitUntilReady();
      const id = third.generator.next();
      expect(decode(id, PRESETS.twitter).timestamp).toBeGreaterThan(third.lease.previousMarkMs!);
      expect(id).toBeGreaterThan(lastOfCrashed);
    } finally {
      await third.close();
      await second.close();
    }
  });

  it("a lost lease stops issuing with a clear error, and issuing resumes once re-acquired", async () => {
    const keyPrefix = nextPrefix();
    const events: string[] = [];
    const leased = await createLeasedGenerator({
      layout: PRESETS.twitter,
      datacenter: 1,
      lease: {
        url: redis.url,
        keyPrefix,
        ttlMs: 1_000,
        onEvent: (event) => events.push(event.kind),
      },
    });
    try {
      const before = leased.generator.next();
      // Someone else takes the id (an operator, or a holder that saw it expire).
      await admin.set(`${keyPrefix}:dc:1:machine:0`, "intruder", "PX", 60_000);
      const error = await refusalOf(leased.generator, "the lease to be lost");
      expect(error).toBeInstanceOf(LeaseLostError);
      expect((error as LeaseLostError).code).toBe(SnowflakeErrorCode.LEASE_LOST);
      expect((error as Error).message).toMatch(/not issuing ids until it is re-acquired/);
      expect(leased.lease.held).toBe(false);
      // It re-acquires the lowest free id (1) and, after the mark, issues again.
      const after = await eventually(() => leased.generator.next(), "issuing to resume");
      expect(leased.lease.machine).toBe(1);
      expect(decode(after, PRESETS.twitter)).toMatchObject({ machine: 1, datacenter: 1 });
      expect(after).toBeGreaterThan(before);
      expect(events).toContain("lost");
      expect(events.filter((kind) => kind === "acquired").length).toBe(2);
    } finally {
      await leased.close();
    }
  });

  it("a holder that cannot reach Redis stops issuing when its lease would expire", async () => {
    const keyPrefix = nextPrefix();
    const own = await startRedisServer();
    const leased = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: own.url, keyPrefix, ttlMs: 1_000 },
    });
    try {
      leased.generator.next();
      await own.stop();
      const error = await refusalOf(leased.generator, "the lease to lapse");
      expect(error).toBeInstanceOf(LeaseLostError);
    } finally {
      leased.lease.abandon();
    }
  });

  it("a graceful release lowers the mark to the last timestamp used, so the next holder need not wait", async () => {
    const keyPrefix = nextPrefix();
    const first = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: redis.url, keyPrefix, ttlMs: 5_000 },
    });
    first.generator.nextBatch(100);
    const lastMs = first.generator.lastTimestampMs!;
    await first.close();
    expect(Number(await admin.get(`${keyPrefix}:dc:0:machine:0:mark`))).toBe(lastMs);
    const second = await createLeasedGenerator({
      layout: PRESETS.twitter,
      lease: { url: redis.url, keyPrefix, ttlMs: 5_000 },
    });
    try {
      expect(second.lease.machine).toBe(0);
      expect(second.lease.previousMarkMs).toBe(lastMs);
      expect(second.generator.startupWaitMs()).toBeLessThanOrEqual(1);
    } finally {
      await second.close();
    }
  });

  it("a clock jumping past the published mark pauses issuing, so a later holder cannot overlap", async () => {
    const keyPrefix = nextPrefix();
    const clock = new ManualClock(Date.now());
    const leased = await createLeasedGenerator({
      layout: PRESETS.twitter,
      clock,
      lease: { url: redis.url, keyPrefix, ttlMs: 5_000 },
    });
    try {
      leased.generator.next();
      clock.advance(3_600_000);
      expect(() => leased.generator.next()).toThrow(/passed the lease's published mark/);
      clock.advance(-3_600_000 + 5);
      expect(leased.generator.next()).toBeGreaterThan(0n);
    } finally {
      await leased.close();
    }
  });

  it("the service answers 503 with the lease error while the lease is lost, and recovers", async () => {
    const service = await startIdService({
      ...DEFAULT_CONFIG,
      port: 0,
      machine: null,
      lease: redis.url,
      // Long enough that a busy test machine does not let the lease lapse on its own.
      leaseTtlMs: 1_500,
      logLevel: "silent",
    });
    try {
      const first = await fetch(`${service.url}/id`);
      expect(first.status, await first.clone().text()).toBe(200);
      const machine = service.generator.machine;
      // Hold every id so the service cannot re-acquire one until we let go.
      const held: string[] = [];
      for (let id = 0; id < 32; id++) {
        const key = `scaleout:snowflake:dc:0:machine:${id}`;
        if (id === machine) await admin.set(key, "intruder", "PX", 60_000);
        else if ((await admin.set(key, "intruder", "PX", 60_000, "NX")) === "OK") held.push(key);
      }
      const refused = await eventually(async () => {
        const response = await fetch(`${service.url}/id`);
        if (response.status !== 503) throw new Error(`status ${response.status}`);
        return (await response.json()) as { error: { code: string; message: string } };
      }, "the service to refuse");
      expect(refused.error.code).toBe(SnowflakeErrorCode.LEASE_LOST);
      expect(refused.error.message).toMatch(/lease lost/);
      expect((await fetch(`${service.url}/readyz`)).status).toBe(503);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^scaleout_ids_lease_held 0$/m);
      await admin.del(...held, `scaleout:snowflake:dc:0:machine:${machine}`);
      await eventually(async () => {
        const response = await fetch(`${service.url}/readyz`);
        if (response.status !== 200) throw new Error(`status ${response.status}`);
      }, "the service to re-acquire a lease");
      const resumed = await fetch(`${service.url}/id`);
      expect(resumed.status, await resumed.clone().text()).toBe(200);
    } finally {
      await service.close();
    }
  });
});
