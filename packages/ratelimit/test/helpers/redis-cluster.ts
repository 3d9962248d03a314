/**
 * A private three-master Redis Cluster on free ports in a temp directory,
 * for the test that runs the store through ioredis's Cluster client.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisClusterHandle {
  ports: number[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), "scaleout-rl-cluster-"));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    ports.push(port);
    children.push(
      spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
        ],
        { stdio: "ignore" },
      ),
    );
  }
  const stop = async () => {
    await Promise.all(
      children.map((child) =>
        child.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let attempt = 0; ; attempt++) {
        try {
          await run("redis-cli", ["-p", String(port), "ping"]);
          break;
        } catch (error) {
          if (attempt > 200) throw error;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    for (let attempt = 0; ; attempt++) {
      const states = await Promise.all(
        ports.map((p) =>
          run("redis-cli", ["-p", String(p), "cluster", "info"]).then((r) => r.stdout),
        ),
      );
      if (states.every((s) => s.includes("cluster_state:ok"))) break;
      if (attempt > 400) throw new Error("the cluster did not become ready");
      await new Promise((r) => setTimeout(r, 25));
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
