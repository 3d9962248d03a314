/** The helpers against the real things they wrap: sockets, redis-server, the built CLI. */
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  answersPing,
  canConnect,
  freePort,
  runCli,
  runCliSync,
  spawnCli,
  startRedisServer,
  tempDir,
  waitForPort,
} from "../src/index.js";

describe("ports", () => {
  it("freePort gives a port that can be bound, and waitForPort sees the listener", async () => {
    const port = await freePort();
    expect(await canConnect(port)).toBe(false);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      await waitForPort(port, 2_000);
      expect(await canConnect(port)).toBe(true);
    } finally {
      server.close();
    }
  });

  it("waitForPort gives up when nothing listens", async () => {
    const port = await freePort();
    await expect(waitForPort(port, 100, { what: "nobody" })).rejects.toThrow(
      /nobody did not listen/,
    );
  });
});

describe("tempDir", () => {
  it("creates a fresh directory and removes it with its contents", () => {
    const a = tempDir("testkit");
    const b = tempDir("testkit");
    expect(a.dir).not.toBe(b.dir);
    writeFileSync(join(a.dir, "file"), "x");
    a.cleanup();
    b.cleanup();
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(false);
  });
});

describe("startRedisServer", () => {
  it("answers PING until stopped; stop removes its directory", async () => {
    const redis = await startRedisServer();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await answersPing(redis.port)).toBe(true);
    expect(existsSync(redis.dir)).toBe(true);
    await redis.stop();
    expect(await answersPing(redis.port)).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
    await redis.stop(); // idempotent
  });

  it("passes appendonly and extra arguments, and reports a server that will not start", async () => {
    const redis = await startRedisServer({ appendonly: true, appendfsync: "always" });
    try {
      const probe = await runRedisCli(redis.port, ["config", "get", "appendfsync"]);
      expect(probe).toContain("always");
    } finally {
      await redis.stop(true);
    }
    await expect(startRedisServer({ args: ["--no-such-option", "x"] })).rejects.toThrow(
      /redis-server exited/,
    );
  });
});

async function runRedisCli(port: number, args: string[]): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) =>
    execFile("redis-cli", ["-p", String(port), ...args], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
}

describe("the built CLI", () => {
  it("runCli returns its output; spawnCli finds a line and reports an early exit", async () => {
    const { stdout } = await runCli(["--help"]);
    expect(stdout).toMatch(/Usage/);
    const help = spawnCli(["--help"]);
    const match = await help.waitForLine(/^Usage: (\S+)/);
    expect(match[1]).toBeTruthy();
    expect(await help.exited).toBe(0);
    const wrong = spawnCli(["no-such-command"]);
    await expect(wrong.waitForLine(/never printed/)).rejects.toThrow(/exited/);
  });

  it("runCliSync returns the exit status and output of a failing run, and runs in cwd", () => {
    const ok = runCliSync(["--help"]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Usage/);
    const wrong = runCliSync(["no-such-command"]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/no-such-command/);
    const scratch = tempDir("testkit-cwd");
    try {
      const ring = runCliSync(
        ["ring", "simulate", "--nodes", "2", "--vnodes", "2", "--keys", "10", "--svg", "r.svg"],
        { cwd: scratch.dir },
      );
      expect(ring.status).toBe(0);
      expect(existsSync(join(scratch.dir, "r.svg"))).toBe(true);
    } finally {
      scratch.cleanup();
    }
  });
});
