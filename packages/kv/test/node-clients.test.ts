/**
 * Real clients against a real node process: ioredis (commands, pipelines,
 * binary values), redis-cli, a memcached text client over a raw socket, and
 * HTTP — on both engines — plus the limits and shutdown paths.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { canConnect, freePort, spawnCli, tempDir as testkitTempDir } from "@scaleout/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeProcess, portRuns, RawClient, startNode, UP_STOP_GRACE_MS } from "./helpers.js";

const run = promisify(execFile);

/**
 * How long `kv up` may take to print its instructions: the cluster starts 3
 * node processes and waits for each; a loaded 2-core machine needs a while.
 */
const UP_START_TIMEOUT_MS = 90_000;

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-p", String(port), ...args]);
  return stdout;
}

async function memcachedExchange(port: number, payload: string, until: string): Promise<string> {
  const client = await RawClient.connect(port);
  client.write(payload);
  const data = await client.readUntil((buffer) => buffer.toString("latin1").endsWith(until));
  client.close();
  return data.toString("latin1");
}

for (const engine of ["memory", "lsm"] as const) {
  describe(`node with the ${engine} engine`, () => {
    let node: NodeProcess;
    let redis: Redis;

    beforeAll(async () => {
      node = await startNode({ engine });
      redis = new Redis({
        port: node.port,
        host: "127.0.0.1",
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      await redis.connect();
    });

    afterAll(async () => {
      redis?.disconnect();
      await node?.stop();
    });

    it("serves ioredis commands", async () => {
      expect(await redis.set("greeting", "hello")).toBe("OK");
      expect(await redis.get("greeting")).toBe("hello");
      expect(await redis.incrby("counter", 41)).toBe(41);
      expect(await redis.incr("counter")).toBe(42);
      expect(await redis.set("greeting", "x", "NX")).toBeNull();
      expect(await redis.set("temp", "v", "EX", 100)).toBe("OK");
      expect(await redis.ttl("temp")).toBe(100);
      expect(await redis.mget("greeting", "missing", "counter")).toEqual(["hello", null, "42"]);
      expect(await redis.exists("greeting", "temp", "missing")).toBe(2);
      expect(await redis.del("temp")).toBe(1);
      await expect(redis.incr("greeting")).rejects.toThrow(
        "ERR value is not an integer or out of range",
      );
      await expect(redis.call("LPUSH", "list", "x")).rejects.toThrow(
        "ERR unknown command 'LPUSH', with args beginning with: 'list' 'x'",
      );
    });

    it("counts calls per command in INFO commandstats until CONFIG RESETSTAT", async () => {
      const calls = async () => {
        const info = (await redis.call("INFO", "commandstats")) as string;
        return Object.fromEntries(
          [...info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]),
        );
      };
      expect(await redis.call("CONFIG", "RESETSTAT")).toBe("OK");
      // Mixed spellings and a pipeline of one command: every call counts against its command.
      await redis.call("ECHO", "a");
      await redis.call("echo", "b");
      const pipeline = redis.pipeline();
      for (let i = 0; i < 5; i++) pipeline.call("ECHO", String(i));
      pipeline.call("PING");
      await pipeline.exec();
      expect(await calls()).toMatchObject({ echo: 7, ping: 1 });
      expect(await redis.call("CONFIG", "RESETSTAT")).toBe("OK");
      const after = await calls();
      expect(after.echo).toBeUndefined();
      expect(after.ping).toBeUndefined();
    });

    it("keeps INCR and SET NX atomic across concurrent pipelined clients", async () => {
      const clients = Array.from(
        { length: 6 },
        () => new Redis({ port: node.port, host: "127.0.0.1" }),
      );
      await Promise.all(
        clients.map(async (client, index) => {
          const pipeline = client.pipeline();
          for (let i = 0; i < 300; i++) {
            pipeline.incr("shared-counter");
            pipeline.set(`once:${i}`, String(index), "NX");
          }
          await pipeline.exec();
        }),
      );
      expect(await redis.get("shared-counter")).toBe("1800");
      const winners = await redis.mget(...Array.from({ length: 300 }, (_, i) => `once:${i}`));
      expect(winners.every((winner) => winner !== null)).toBe(true);
      for (const client of clients) client.disconnect();
    });

    it("keeps binary values intact, including CR LF and NUL bytes", async () => {
      const values = [Buffer.from([0, 13, 10, 255, 36, 42]), randomBytes(70_000), Buffer.alloc(0)];
      for (const [index, value] of values.entries()) {
        const key = Buffer.from([0xff, 0x00, index, 0x0d, 0x0a]);
        await redis.set(key, value);
        expect(Buffer.compare((await redis.getBuffer(key))!, value)).toBe(0);
      }
    });

    it("answers a 2000-command pipeline in order", async () => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 1000; i++) {
        pipeline.set(`p:${i}`, String(i));
        pipeline.incr(`p:${i}`);
      }
      const results = await pipeline.exec();
      expect(results).toHaveLength(2000);
      for (let i = 0; i < 1000; i++) {
        expect(results![2 * i]).toEqual([null, "OK"]);
        expect(results![2 * i + 1]).toEqual([null, i + 1]);
      }
      const keys: string[] = [];
      const stream = redis.scanStream({ match: "p:*", count: 100 });
      for await (const batch of stream) keys.push(...(batch as string[]));
      expect(new Set(keys).size).toBe(1000);
    });

    it("works with redis-cli", async () => {
      expect((await redisCli(node.port, "SET", "cli", "value")).trim()).toBe("OK");
      expect((await redisCli(node.port, "GET", "cli")).trim()).toBe("value");
      expect((await redisCli(node.port, "-3", "HELLO", "3")).trim()).toContain("proto");
      expect(await redisCli(node.port, "INFO", "keyspace")).toMatch(/db0:keys=\d+/);
      // Engine internals: the lsm engine's levels, flushes, caches; nothing for memory.
      const storage = await redisCli(node.port, "INFO", "storage");
      expect(storage).toContain(`engine:${engine}`);
      if (engine === "lsm")
        expect(storage).toMatch(/lsm_levels:\d+(,\d+){6}\r?\n[\s\S]*lsm_flushes:\d+/);
      else expect(storage).not.toContain("lsm_");
      expect((await redisCli(node.port, "--scan", "--pattern", "cli")).trim()).toBe("cli");
      const inline = await RawClient.connect(node.port);
      inline.write('SET "inline key" "a\\x41b"\r\nGET "inline key"\r\n');
      expect(await inline.read()).toEqual({ t: "+", v: "OK" });
      expect(await inline.read()).toEqual({ t: "$", v: "aAb" });
      inline.close();
    });

    it("shares keys between the Redis and memcached protocols", async () => {
      await redis.set("shared", "from-redis");
      const got = await memcachedExchange(node.memcachedPort, "get shared\r\n", "END\r\n");
      expect(got).toBe("VALUE shared 0 10\r\nfrom-redis\r\nEND\r\n");
      const stored = await memcachedExchange(
        node.memcachedPort,
        "set mc 7 0 4\r\nabcd\r\nincr n 1\r\n",
        "\r\n",
      );
      expect(stored.startsWith("STORED\r\n")).toBe(true);
      expect(await redis.get("mc")).toBe("abcd");
    });

    it("serves HTTP: binary PUT/GET/DELETE, TTLs, health, metrics, info", async () => {
      const base = `http://127.0.0.1:${node.httpPort}`;
      const body = Buffer.from([0, 1, 2, 13, 10, 255]);
      const put = await fetch(`${base}/kv/bin%00key?ttl=100`, { method: "PUT", body });
      expect(put.status).toBe(204);
      const get = await fetch(`${base}/kv/bin%00key`);
      expect(get.status).toBe(200);
      expect(Buffer.compare(Buffer.from(await get.arrayBuffer()), body)).toBe(0);
      expect(Number(get.headers.get("x-ttl-ms"))).toBeGreaterThan(90_000);
      expect(await redis.getBuffer(Buffer.from("bin\u0000key", "latin1"))).toEqual(body);
      expect((await fetch(`${base}/kv/bin%00key`, { method: "DELETE" })).status).toBe(204);
      expect((await fetch(`${base}/kv/bin%00key`)).status).toBe(404);
      expect((await fetch(`${base}/kv/bin%00key`, { method: "DELETE" })).status).toBe(404);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/kv_commands_processed_total \d+/);
      expect(metrics).toMatch(/kv_keyspace_hits_total \d+/);
      const info = (await (await fetch(`${base}/info`)).json()) as Record<
        string,
        Record<string, string>
      >;
      expect(info.server?.engine).toBe(engine);
    });
  });
}

describe("limits and lifecycle", () => {
  it("scaleout kv up --nodes 1 starts a local lsm node, prints how to connect and stops cleanly on Ctrl-C", async () => {
    const scratch = testkitTempDir("kv-up");
    const port = await freePort();
    const up = spawnCli([
      "kv",
      "up",
      "--nodes",
      "1",
      "--data",
      scratch.dir,
      "--port",
      String(port),
      "--memcached-port",
      "0",
      "--http-port",
      "0",
    ]);
    try {
      // Ready when it prints how to stop it (after the node listens); fails at once if it exits.
      await up.waitForLine(/Ctrl-C/, UP_START_TIMEOUT_MS);
      expect(up.stdout()).toContain("scaleout kv: 1 node (engine lsm");
      expect(up.stdout()).toContain(`redis-cli -h 127.0.0.1 -p ${port}`);
      const client = await RawClient.connect(port);
      expect(await client.command("SET", "up", "1")).toEqual({ t: "+", v: "OK" });
      client.close();
      expect(await up.stop("SIGINT", UP_STOP_GRACE_MS)).toBe(0);
      expect(up.stdout()).toContain("stopped");
    } finally {
      await up.stop("SIGKILL");
      scratch.cleanup();
    }
  }, 180_000);

  it("scaleout kv up (default: a 3-node cluster) starts, answers and stops every node on Ctrl-C", async () => {
    const scratch = testkitTempDir("kv-up-cluster");
    const [port, httpPort, peerPort] = (await portRuns(3, 3)) as [number, number, number];
    const up = spawnCli([
      "kv",
      "up",
      "--data",
      scratch.dir,
      "--port",
      String(port),
      "--http-port",
      String(httpPort),
      "--peer-port",
      String(peerPort),
    ]);
    try {
      await up.waitForLine(/Ctrl-C/, UP_START_TIMEOUT_MS);
      expect(up.stdout()).toContain("3-node cluster");
      expect(up.stdout()).toContain(`redis-cli -h 127.0.0.1 -p ${port}`);
      const client = await RawClient.connect(port + 2);
      expect(await client.command("PING")).toEqual({ t: "+", v: "PONG" });
      client.close();
      expect(await up.stop("SIGINT", UP_STOP_GRACE_MS)).toBe(0);
      expect(up.stdout()).toContain("stopped");
      // Every node process is gone: nothing listens on their ports any more.
      for (let i = 0; i < 3; i++) expect(await canConnect(port + i)).toBe(false);
    } finally {
      await up.stop("SIGKILL");
      scratch.cleanup();
    }
  }, 180_000);

  it("refuses clients past maxclients, drops idle clients, checks passwords", async () => {
    const node = await startNode({
      engine: "memory",
      args: ["--maxclients", "2", "--timeout", "1", "--requirepass", "s3cret"],
    });
    try {
      const first = await RawClient.connect(node.port);
      const second = await RawClient.connect(node.port);
      expect(await first.command("GET", "k")).toEqual({
        t: "-",
        v: "NOAUTH Authentication required.",
      });
      expect(await first.command("AUTH", "wrong")).toEqual({
        t: "-",
        v: "WRONGPASS invalid username-password pair or user is disabled.",
      });
      expect(await first.command("AUTH", "s3cret")).toEqual({ t: "+", v: "OK" });
      expect(await first.command("SET", "k", "v")).toEqual({ t: "+", v: "OK" });
      const third = await RawClient.connect(node.port);
      expect(await third.read()).toEqual({ t: "-", v: "ERR max number of clients reached" });
      expect(await third.waitClosed()).toBe(true);
      // Idle clients are dropped after the 1 s timeout, on both protocols.
      const memcachedIdle = await RawClient.connect(node.memcachedPort);
      expect(await second.waitClosed()).toBe(true);
      expect(await memcachedIdle.waitClosed()).toBe(true);
      expect((await fetch(`http://127.0.0.1:${node.httpPort}/kv/k`)).status).toBe(401);
      const authorized = await fetch(`http://127.0.0.1:${node.httpPort}/kv/k`, {
        headers: { authorization: "Bearer s3cret" },
      });
      expect(await authorized.text()).toBe("v");
      first.close();
    } finally {
      await node.stop();
    }
  });

  it("disconnects a client that does not read its replies", async () => {
    const node = await startNode({
      engine: "memory",
      args: ["--client-output-buffer-limit", "1mb"],
    });
    try {
      const setter = await RawClient.connect(node.port);
      expect(await setter.command("SET", "big", Buffer.alloc(200_000, 120))).toEqual({
        t: "+",
        v: "OK",
      });
      const reader = await RawClient.connect(node.port);
      reader.socket.pause();
      const request = Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n".repeat(200));
      reader.write(request);
      // 200 x 200 kB replies queued for a reader that reads nothing: over the 1 MB limit. The
      // reader stays paused until the node says it closed it (an event, however slow the machine).
      await node.waitForOutput(/output buffer limit/, 60_000);
      // Then it reads what reached its socket before the close, and sees the close.
      reader.socket.resume();
      expect(await reader.waitClosed(60_000)).toBe(true);
      expect(await setter.command("PING")).toEqual({ t: "+", v: "PONG" });
      setter.close();
    } finally {
      await node.stop();
    }
  });

  it("refuses writes with Redis's OOM error under noeviction and evicts under lru", async () => {
    const node = await startNode({
      engine: "memory",
      args: ["--maxmemory", "200kb", "--eviction", "noeviction"],
    });
    try {
      const client = await RawClient.connect(node.port);
      let oom: unknown;
      for (let i = 0; i < 100 && oom === undefined; i++) {
        const reply = await client.command("SET", `k${i}`, Buffer.alloc(10_000, 97));
        if (reply.t === "-") oom = reply;
      }
      expect(oom).toEqual({ t: "-", v: "OOM command not allowed when used memory > 'maxmemory'." });
      expect(await client.command("DEL", "k0")).toEqual({ t: ":", v: "1" });
      expect(await client.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")).toEqual({
        t: "+",
        v: "OK",
      });
      for (let i = 100; i < 150; i++) {
        expect(await client.command("SET", `k${i}`, Buffer.alloc(10_000, 97))).toEqual({
          t: "+",
          v: "OK",
        });
      }
      const info = await client.command("INFO", "stats");
      expect(info.t).toBe("$");
      const evicted = Number(/evicted_keys:(\d+)/.exec((info as { v: string }).v)?.[1]);
      expect(evicted).toBeGreaterThan(0);
      expect(await client.command("GET", "k149")).toEqual({ t: "$", v: "a".repeat(10_000) });
      client.close();
    } finally {
      await node.stop();
    }
  });

  it("shuts down cleanly on SHUTDOWN and on SIGTERM, exiting 0", async () => {
    const first = await startNode({ engine: "lsm" });
    const client = await RawClient.connect(first.port);
    await client.command("SET", "k", "v");
    client.write("*1\r\n$8\r\nSHUTDOWN\r\n");
    expect(await client.waitClosed(10_000)).toBe(true);
    expect(await first.stop("SIGCONT")).toBe(0);
    const second = await startNode({ engine: "lsm" });
    expect(await second.stop("SIGTERM")).toBe(0);
  });
});
