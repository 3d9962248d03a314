/**
 * Real processes: the built CLI (`npm test` builds first), several at once
 * with distinct machine ids, and the service as a child process with leases
 * from a real redis-server.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CliProcess,
  type RedisServer,
  runCli,
  spawnCli,
  startRedisServer,
  tempDir,
} from "@scaleout/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, PRESETS, readStateFile } from "../src/index.js";

let redis: RedisServer;
const scratch = tempDir("snowflake-processes");
const directory = scratch.dir;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
  scratch.cleanup();
});

interface Server {
  process: CliProcess;
  url: string;
}

async function startServer(args: string[]): Promise<Server> {
  const server = spawnCli(["ids", "serve", "--port", "0", "--log-level", "warn", ...args]);
  const [, url] = await server.waitForLine(/listening on (http:\/\/\S+)/);
  return { process: server, url: url! };
}

describe("several real processes", () => {
  it("`ids next` in four processes with distinct machine ids: no duplicates among a million ids", async () => {
    const perProcess = 250_000;
    const outputs = await Promise.all(
      [0, 1, 2, 3].map((machine) =>
        runCli([
          "ids",
          "next",
          "--count",
          String(perProcess),
          "--machine",
          String(machine),
          "--json",
        ]),
      ),
    );
    const seen = new Set<string>();
    outputs.forEach(({ stdout }, machine) => {
      const { ids } = JSON.parse(stdout) as { ids: string[] };
      expect(ids.length).toBe(perProcess);
      expect(decode(ids[0]!, PRESETS.twitter).machine).toBe(machine);
      expect(decode(ids[perProcess - 1]!, PRESETS.twitter).machine).toBe(machine);
      for (const id of ids) seen.add(id);
    });
    expect(seen.size).toBe(4 * perProcess);
  });

  it("`ids next --lease` in two processes at once: distinct leased machine ids, no duplicates", async () => {
    const outputs = await Promise.all(
      [0, 1].map(() => runCli(["ids", "next", "--count", "20000", "--lease", redis.url, "--json"])),
    );
    const idLists = outputs.map(({ stdout }) => (JSON.parse(stdout) as { ids: string[] }).ids);
    const all = new Set(idLists.flat());
    expect(all.size).toBe(40_000);
    for (const ids of idLists) {
      const machine = decode(ids[0]!, PRESETS.twitter).machine;
      expect(decode(ids[ids.length - 1]!, PRESETS.twitter).machine).toBe(machine);
    }
  });

  it("`ids decode` prints the JSON fields the issue names, and refuses bad ids in one line", async () => {
    const { stdout } = await runCli([
      "ids",
      "decode",
      "175928847299117063",
      "--preset",
      "discord",
      "--json",
    ]);
    expect(JSON.parse(stdout)).toMatchObject({
      timestamp: 1462015105796,
      iso: "2016-04-30T11:18:25.796Z",
      datacenter: 1,
      machine: 0,
      sequence: 7,
    });
    const failure = await runCli(["ids", "decode", "9223372036854775808"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      "scaleout: id 9223372036854775808 is not below 2^63 (9223372036854775808); ids are 0..2^63-1",
    );
  });

  it("`ids serve` refuses a bad setting with one line naming the field", async () => {
    const failure = await runCli(["ids", "serve", "--port", "70000", "--machine", "1"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      "scaleout: port (from flags): must be in 0..65535, got 70000",
    );
  });

  it("`ids serve` reads a YAML config file and names a bad field in it in one line", async () => {
    const file = join(directory, "ids.yaml");
    writeFileSync(file, "port: 0\nmachine: 4\nmaxBackwardsMs: lots\n");
    const failure = await runCli(["ids", "serve", "--config", file]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((failure as { stderr: string }).stderr.trim()).toBe(
      `scaleout: maxBackwardsMs (from ${file}): must be an integer, got "lots"`,
    );
    writeFileSync(file, "port: 0\nmachine: 4\ndatacenter: 2\n");
    const server = await startServer(["--config", file]);
    try {
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
        machine: number;
        datacenter: number;
      };
      expect(ready).toMatchObject({ machine: 4, datacenter: 2 });
    } finally {
      expect(await server.process.stop()).toBe(0);
    }
  });

  it("two leased services get distinct machine ids, issue no duplicates, and release on SIGTERM", async () => {
    const servers = await Promise.all(
      [0, 1].map(() => startServer(["--lease", redis.url, "--lease-ttl-ms", "2000"])),
    );
    try {
      const machines = await Promise.all(
        servers.map(
          async (server) =>
            ((await (await fetch(`${server.url}/readyz`)).json()) as { machine: number }).machine,
        ),
      );
      expect(new Set(machines).size).toBe(2);
      const seen = new Set<string>();
      for (let round = 0; round < 5; round++) {
        const batches = await Promise.all(
          servers.map(
            async (server) =>
              ((await (await fetch(`${server.url}/ids?count=10000`)).json()) as { ids: string[] })
                .ids,
          ),
        );
        for (const batch of batches) for (const id of batch) seen.add(id);
      }
      expect(seen.size).toBe(2 * 5 * 10_000);
    } finally {
      const codes = await Promise.all(servers.map((server) => server.process.stop()));
      expect(codes).toEqual([0, 0]);
    }
    const admin = new Redis(redis.url);
    try {
      expect(await admin.keys("scaleout:snowflake:dc:0:machine:?")).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });

  it("SIGTERM flushes the state file; a restarted service continues above the last id", async () => {
    const stateFile = join(directory, "serve.state");
    const first = await startServer(["--machine", "6", "--state-file", stateFile]);
    const last = ((await (await fetch(`${first.url}/ids?count=3000`)).json()) as { ids: string[] })
      .ids[2999]!;
    expect(await first.process.stop()).toBe(0);
    const record = readStateFile(stateFile);
    expect(record).toMatchObject({ clean: true, machine: 6 });
    expect(record!.reservedUntilMs).toBeGreaterThanOrEqual(decode(last, PRESETS.twitter).timestamp);
    const second = await startServer(["--machine", "6", "--state-file", stateFile]);
    try {
      const next = ((await (await fetch(`${second.url}/id`)).json()) as { id: string }).id;
      expect(BigInt(next)).toBeGreaterThan(BigInt(last));
    } finally {
      expect(await second.process.stop()).toBe(0);
    }
  });
});
