import { join } from "node:path";
import { tempDir } from "@scaleout/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_CONFIG,
  type IdService,
  type IdServiceConfig,
  readStateFile,
  resolveIdServiceConfig,
  SnowflakeErrorCode,
  startIdService,
} from "../src/index.js";

const scratch = tempDir("snowflake-service");
const stateFile = join(scratch.dir, "ids.state");
let service: IdService;

beforeAll(async () => {
  const config: IdServiceConfig = {
    ...DEFAULT_CONFIG,
    port: 0,
    datacenter: 2,
    machine: 9,
    stateFile,
    logLevel: "silent",
  };
  service = await startIdService(config);
});

afterAll(async () => {
  await service?.close();
  scratch.cleanup();
});

async function get(path: string): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`${service.url}${path}`);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // /metrics is not JSON.
  }
  return { status: response.status, body, text };
}

describe("the HTTP id service", () => {
  it("GET /id and /ids return increasing ids as JSON strings", async () => {
    const one = await get("/id");
    expect(one.status).toBe(200);
    const id = (one.body as { id: unknown }).id;
    expect(typeof id).toBe("string");
    expect(one.text).toMatch(/^\{"id":"\d+"\}$/);
    const many = await get("/ids?count=10000");
    expect(many.status).toBe(200);
    const ids = (many.body as { ids: string[] }).ids.map(BigInt);
    expect(ids.length).toBe(10_000);
    expect(ids[0]!).toBeGreaterThan(BigInt(id as string));
    for (let i = 1; i < ids.length; i++)
      if (ids[i]! <= ids[i - 1]!) throw new Error(`not increasing at ${i}`);
  });

  it("GET /decode/:id decodes with the service's layout", async () => {
    const { body } = await get("/id");
    const decoded = await get(`/decode/${(body as { id: string }).id}`);
    expect(decoded.status).toBe(200);
    expect(decoded.body).toMatchObject({
      datacenter: 2,
      machine: 9,
      id: (body as { id: string }).id,
    });
    expect(Object.keys(decoded.body as object).sort()).toEqual([
      "datacenter",
      "id",
      "iso",
      "machine",
      "sequence",
      "timestamp",
    ]);
  });

  it("bad input is a 400 saying what is wrong", async () => {
    const cases: Array<[string, RegExp]> = [
      ["/ids?count=0", /at least 1/],
      ["/ids?count=-3", /negative/],
      ["/ids?count=10001", /over the limit of 10000/],
      ["/ids?count=lots", /not an integer/],
      ["/ids", /count is required/],
      ["/ids?count=1&count=2", /more than once/],
      ["/decode/-1", /negative/],
      ["/decode/9223372036854775808", /not below 2\^63/],
      ["/decode/12abc", /not a decimal integer/],
      [`/decode/${"1".repeat(500)}`, /500 characters long/],
      [`/decode/${"9".repeat(70)}`, /characters long/],
    ];
    for (const [path, pattern] of cases) {
      const { status, body } = await get(path);
      expect(status, path).toBe(400);
      const error = (body as { error: { code: string; message: string } }).error;
      expect(error.message, path).toMatch(pattern);
      expect([SnowflakeErrorCode.COUNT_INVALID, SnowflakeErrorCode.ID_INVALID]).toContain(
        error.code,
      );
    }
  });

  it("health, readiness and metrics", async () => {
    expect((await get("/healthz")).status).toBe(200);
    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", datacenter: 2, machine: 9 });
    await get("/ids?count=5000");
    const metrics = await get("/metrics");
    const issued = Number(/^scaleout_ids_issued_total (\d+)$/m.exec(metrics.text)?.[1]);
    expect(issued).toBe(service.generator.issuedTotal);
    expect(issued).toBeGreaterThanOrEqual(5000);
    expect(metrics.text).toMatch(/^scaleout_ids_overflow_waits_total \d+$/m);
    expect(metrics.text).toMatch(/^scaleout_ids_clock_backwards_total 0$/m);
    expect(metrics.text).toMatch(
      /scaleout_ids_http_requests_total\{route="\/ids",status="200"\} \d+/,
    );
  });

  it("closing flushes the state file with the last timestamp used", async () => {
    const { body } = await get("/id");
    const last = await get(`/decode/${(body as { id: string }).id}`);
    await service.close();
    const record = readStateFile(stateFile);
    expect(record).toMatchObject({ clean: true, datacenter: 2, machine: 9 });
    expect(record!.reservedUntilMs).toBeGreaterThanOrEqual(
      (last.body as { timestamp: number }).timestamp,
    );
    expect(record!.reservedUntilMs).toBe(service.generator.lastTimestampMs);
  });
});

describe("service configuration", () => {
  it("flags beat environment, which beats the file", () => {
    const config = resolveIdServiceConfig({
      file: { port: 1000, machine: 1, preset: "discord" },
      fileName: "ids.yaml",
      env: { SCALEOUT_IDS_PORT: "2000", SCALEOUT_IDS_MACHINE: "2" },
      flags: { port: "3000" },
    });
    expect(config).toMatchObject({ port: 3000, machine: 2, preset: "discord", datacenter: 0 });
  });

  it("a bad value stops with one line naming the field and the source", () => {
    const attempt = (sources: Parameters<typeof resolveIdServiceConfig>[0]) => {
      try {
        resolveIdServiceConfig(sources);
      } catch (error) {
        expect((error as { code: string }).code).toBe(SnowflakeErrorCode.CONFIG_INVALID);
        expect((error as Error).message).not.toContain("\n");
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(attempt({ flags: { port: "70000", machine: "1" } })).toBe(
      "port (from flags): must be in 0..65535, got 70000",
    );
    expect(attempt({ env: { SCALEOUT_IDS_MACHINE: "x" } })).toMatch(
      /^machine \(from environment SCALEOUT_IDS_MACHINE\): must be an integer/,
    );
    expect(attempt({ file: { prot: 1 }, fileName: "ids.yaml" })).toMatch(
      /^prot \(from ids\.yaml\): unknown field/,
    );
    expect(attempt({ flags: {} })).toMatch(/^machine .*--lease/);
    expect(attempt({ flags: { machine: "1", lease: "redis://x:1" } })).toMatch(/not both/);
    expect(attempt({ flags: { machine: "32" } })).toMatch(/^machine .*0\.\.31/);
    expect(attempt({ flags: { machine: "1", preset: "tweeter" } })).toMatch(
      /^preset \(from flags\): must be one of/,
    );
    expect(attempt({ flags: { machine: "1", lease: "http://x" } })).toMatch(/redis:\/\/ URL/);
    expect(attempt({ flags: { machine: "1", epochMs: String(Date.now() + 86_400_000) } })).toMatch(
      /^epochMs .*in the future/,
    );
    expect(attempt({ flags: { machine: "1", maxBatch: "20000" } })).toMatch(/^maxBatch/);
  });
});
