/**
 * `scaleout kv up --nodes 5 --dcs 2` as an operator runs it: one CLI process
 * starting five node processes, printing how to connect; `scaleout kv status`
 * (text and --json) shows members and health with DC and rack, ring
 * ownership, hint backlog, anti-entropy progress and transfers; Ctrl-C stops
 * every node and exits 0.
 */
import { execFile, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { ShellStatus } from "../../src/cluster-shell/index.js";
import { CLI, tempDir } from "../helpers.js";

const run = promisify(execFile);

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Three bases of 5 consecutive free ports below the ephemeral range (kv up uses base + i - 1). */
async function portBases(): Promise<[number, number, number]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    const ports = Array.from({ length: 15 }, (_, i) => base + Math.floor(i / 5) * 100 + (i % 5));
    if ((await Promise.all(ports.map(portFree))).every(Boolean))
      return [base, base + 100, base + 200];
  }
  throw new Error("no free port range");
}

describe("scaleout kv up --nodes 5", () => {
  it("starts 5 node processes over 2 DCs, kv status shows the cluster, Ctrl-C stops it cleanly", async () => {
    const dir = tempDir("up-cluster");
    const [port, httpPort, peerPort] = await portBases();
    const child = spawn(
      process.execPath,
      [
        CLI,
        "kv",
        "up",
        "--nodes",
        "5",
        "--dcs",
        "2",
        "--data",
        dir,
        "--port",
        String(port),
        "--http-port",
        String(httpPort),
        "--peer-port",
        String(peerPort),
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    try {
      const deadline = Date.now() + 45_000;
      while (!output.includes("Ctrl-C") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain("5-node cluster");
      for (let i = 0; i < 5; i += 1) expect(output).toContain(`redis-cli -p ${port + i}`);
      expect(output).toContain(`scaleout kv status --node 127.0.0.1:${port}`);

      const node = `127.0.0.1:${port + 4}`;
      let status: ShellStatus | undefined;
      for (let i = 0; i < 100; i += 1) {
        const { stdout } = await run(process.execPath, [
          CLI,
          "kv",
          "status",
          "--node",
          node,
          "--json",
        ]);
        status = JSON.parse(stdout) as ShellStatus;
        if (status.members.length === 5 && status.members.every((m) => m.up)) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(status!.members.map((m) => [m.id, m.dc, m.rack, m.up])).toEqual([
        ["n1", "dc1", "r1", true],
        ["n2", "dc2", "r2", true],
        ["n3", "dc1", "r3", true],
        ["n4", "dc2", "r4", true],
        ["n5", "dc1", "r5", true],
      ]);
      // 256 partitions × N=3 over 5 nodes: ~154 each.
      expect(status!.partitionsOwned).toBeGreaterThan(100);
      expect(status!.partitionsOwned).toBeLessThan(220);
      const { stdout: text } = await run(process.execPath, [CLI, "kv", "status", "--node", node]);
      for (const section of [
        "members:",
        "n3       up",
        "dc2/r4",
        "partitions owned",
        "hinted handoff backlog: 0",
        "anti-entropy:",
        "transfers out:",
        "transfers in:",
        "keys streamed",
      ]) {
        expect(text).toContain(section);
      }
    } finally {
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(output).toContain("stopped");
    // Every node process is gone: their ports are free again.
    for (let i = 0; i < 5; i += 1) expect(await portFree(port + i)).toBe(true);
  }, 90_000);
});
