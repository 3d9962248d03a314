/**
 * A private three-master Redis Cluster for the test that runs the store
 * through ioredis's Cluster client: testkit's redis-servers (each on a free
 * port in its own temp directory) with cluster mode on, joined by
 * `redis-cli --cluster create`.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { LOOPBACK, type RedisServer, startRedisServer } from "@scaleout/testkit";

const run = promisify(execFile);

/** How long the joined cluster may take to report cluster_state:ok. */
const CLUSTER_READY_TIMEOUT_MS = 15_000;
const CLUSTER_POLL_INTERVAL_MS = 25;

export interface RedisClusterHandle {
  ports: number[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterHandle> {
  const started = await Promise.allSettled(
    Array.from({ length: masters }, () =>
      startRedisServer({ prefix: "rl-cluster", args: ["--cluster-enabled", "yes"] }),
    ),
  );
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stop = async () => {
    await Promise.all(servers.map((server: RedisServer) => server.stop(true)));
  };
  try {
    for (const s of started) if (s.status === "rejected") throw s.reason;
    const ports = servers.map((server) => server.port);
    await run("redis-cli", [
      "--cluster",
      "create",
      ...ports.map((port) => `${LOOPBACK}:${port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS;
    for (;;) {
      const states = await Promise.all(
        ports.map((port) =>
          run("redis-cli", ["-p", String(port), "cluster", "info"]).then((r) => r.stdout),
        ),
      );
      if (states.every((state) => state.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline)
        throw new Error(`the cluster did not become ready within ${CLUSTER_READY_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, CLUSTER_POLL_INTERVAL_MS));
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
