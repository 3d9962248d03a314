/**
 * `scaleout kv up --nodes 5 --dcs 2` as an operator runs it: one CLI process
 * starting five node processes, printing how to connect; `scaleout kv status`
 * (text and --json) shows members and health with DC and rack, ring
 * ownership, hint backlog, anti-entropy progress and transfers; Ctrl-C stops
 * every node and exits 0.
 */
import { rmSync } from "node:fs";
import { runCli, spawnCli } from "@scaleout/testkit";
import { describe, expect, it } from "vitest";
import type { ShellStatus } from "../../src/cluster-shell/index.js";
import { portFree, portRuns, tempDir, UP_STOP_GRACE_MS } from "../helpers.js";

/** Generous deadlines: five node processes on a loaded 2-core machine take a while. */
const UP_START_TIMEOUT_MS = 120_000;
const MEMBERS_UP_TIMEOUT_MS = 60_000;

describe("scaleout kv up --nodes 5", () => {
  it("starts 5 node processes over 2 DCs, kv status shows the cluster, Ctrl-C stops it cleanly", async () => {
    const dir = tempDir("up-cluster");
    const [port, httpPort, peerPort] = (await portRuns(5, 3)) as [number, number, number];
    const up = spawnCli([
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
    ]);
    try {
      // Ready once it prints how to stop it; an exit or the (generous) deadline fails with the output.
      await up.waitForLine(/Ctrl-C/, UP_START_TIMEOUT_MS);
      expect(up.stdout()).toContain("5-node cluster");
      for (let i = 0; i < 5; i += 1) expect(up.stdout()).toContain(`redis-cli -p ${port + i}`);
      expect(up.stdout()).toContain(`scaleout kv status --node 127.0.0.1:${port}`);

      const node = `127.0.0.1:${port + 4}`;
      let status: ShellStatus | undefined;
      const membersDeadline = Date.now() + MEMBERS_UP_TIMEOUT_MS;
      while (Date.now() < membersDeadline) {
        const { stdout } = await runCli(["kv", "status", "--node", node, "--json"]);
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
      const { stdout: text } = await runCli(["kv", "status", "--node", node]);
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
      expect(await up.stop("SIGINT", UP_STOP_GRACE_MS)).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(up.stdout()).toContain("stopped");
    // Every node process is gone: their ports are free again.
    for (let i = 0; i < 5; i += 1) expect(await portFree(port + i)).toBe(true);
  }, 300_000);
});
