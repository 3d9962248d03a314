/**
 * Multi data center with real processes: 4 node processes in two simulated
 * data centers (process groups with different --dc, as `kv up --dcs 2`),
 * placement across DCs, the local-quorum option (RESP LOCAL, HTTP
 * ?consistency=localQuorum) and asynchronous replication to the remote DC,
 * with the DCs cut apart by the transports' fault layer.
 */
import { rmSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterRouter, hashRingFactory } from "../../src/cluster/index.js";
import {
  clusterKey,
  fetchStatus,
  LocalCluster,
  type LocalNode,
  setFault,
} from "../../src/cluster-shell/index.js";
import { CLI, clusterPortBases, tempDir, until } from "../helpers.js";

describe("two data centers of real node processes", () => {
  let cluster: LocalCluster;
  let dir: string;
  let router: ClusterRouter;
  const clients = new Map<string, Redis>();
  const redisOf = (node: LocalNode): Redis => {
    let redis = clients.get(node.id);
    if (redis === undefined) {
      redis = new Redis({ host: "127.0.0.1", port: node.respPort, maxRetriesPerRequest: 0 });
      redis.on("error", () => {});
      clients.set(node.id, redis);
    }
    return redis;
  };
  const byId = (id: string) => cluster.nodes.find((n) => n.id === id)!;
  /** The key's value as `node` holds it (R=1 on a home replica answers from its own copy). */
  const localValues = async (node: LocalNode, key: string) =>
    ((await redisOf(node).call("KV.GET", key, "R", "1")) as [string, string[]])[1];

  beforeAll(async () => {
    dir = tempDir("cluster-dc");
    cluster = await LocalCluster.start({
      nodes: 4,
      dataRoot: dir,
      cliEntry: CLI,
      bind: "127.0.0.1",
      // Port runs below the ephemeral range: a port from freePort() (base 0) can be taken by
      // another process's outgoing connection before the node binds it, and the node exits.
      ...(await clusterPortBases(4)),
      dcs: 2,
      mode: "siblings",
      appendfsync: "everysec",
      logLevel: "warn",
      env: { SCALEOUT_KV_CLUSTER_TUNING: JSON.stringify({ antiEntropyIntervalMs: 20 }) },
    });
    const status = await until("every member up", async () => {
      const s = await fetchStatus(`127.0.0.1:${cluster.nodes[0]!.respPort}`);
      return s.members.length === 4 && s.members.every((m) => m.up) ? s : undefined;
    });
    router = new ClusterRouter(
      hashRingFactory,
      status.members.map((m) => ({ id: m.id, dc: m.dc, rack: m.rack, weight: 1 })),
    );
  }, 60_000);

  afterAll(async () => {
    for (const redis of clients.values()) redis.disconnect();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("places every key's replicas in both data centers", () => {
    const dcOf = new Map(cluster.nodes.map((n) => [n.id, n.dc]));
    expect(new Set(dcOf.values())).toEqual(new Set(["dc1", "dc2"]));
    for (let i = 0; i < 200; i += 1) {
      const home = router.replicasFor(clusterKey(`placed:${i}`));
      expect(home).toHaveLength(3);
      expect(new Set(home.map((id) => dcOf.get(id))).size).toBe(2);
    }
  });

  it("a LOCAL write replicates to the remote DC asynchronously", async () => {
    const key = "async:1";
    const home = router.replicasFor(clusterKey(key));
    const local = byId(home.find((id) => byId(id).dc === "dc1")!);
    await redisOf(local).call("KV.PUT", key, "", "v1", "LOCAL");
    for (const id of home) {
      await until(`${key} on ${id}`, async () =>
        (await localValues(byId(id), key)).includes("v1") ? true : undefined,
      );
    }
  }, 30_000);

  it("with the DCs cut apart: quorum writes needing the remote DC time out, LOCAL ones succeed, and reach the remote DC after the heal", async () => {
    // A key with one home replica in dc1 and two in dc2: W=2 needs dc2.
    let key = "";
    let home: string[] = [];
    for (let i = 0; key === ""; i += 1) {
      home = router.replicasFor(clusterKey(`cut:${i}`));
      if (home.filter((id) => byId(id).dc === "dc1").length === 1) key = `cut:${i}`;
    }
    const coordinator = byId(home.find((id) => byId(id).dc === "dc1")!);
    const dc1 = cluster.nodes.filter((n) => n.dc === "dc1");
    const dc2 = cluster.nodes.filter((n) => n.dc === "dc2");
    for (const node of dc1)
      await setFault(
        `127.0.0.1:${node.respPort}`,
        dc2.map((n) => n.id),
      );
    for (const node of dc2)
      await setFault(
        `127.0.0.1:${node.respPort}`,
        dc1.map((n) => n.id),
      );
    try {
      // Before failure detection marks dc2 down (2 s), the home replicas are the targets.
      await expect(
        redisOf(coordinator).call("KV.PUT", key, "", "quorum", "W", "2", "TIMEOUT", "400"),
      ).rejects.toThrow(/SCALEOUT_ERR_KV_TIMEOUT .*1 of 3 replicas acknowledged, 2 required/);
      await redisOf(coordinator).call("KV.PUT", key, "", "local", "LOCAL", "TIMEOUT", "400");
      const http = await fetch(
        `http://127.0.0.1:${coordinator.httpPort}/kv/${key}-http?consistency=localQuorum&timeoutMs=400`,
        { method: "PUT", body: "local-http" },
      );
      expect(http.status).toBe(204);
      // dc2 has not seen them.
      const remote = home.filter((id) => byId(id).dc === "dc2").map(byId);
      for (const node of remote) expect(await localValues(node, key)).not.toContain("local");
    } finally {
      for (const node of cluster.nodes) await setFault(`127.0.0.1:${node.respPort}`, []);
    }
    for (const id of home) {
      await until(`${key} on ${id} after the heal`, async () =>
        (await localValues(byId(id), key)).includes("local") ? true : undefined,
      );
    }
    for (const id of router.replicasFor(clusterKey(`${key}-http`))) {
      await until(`${key}-http on ${id} after the heal`, async () =>
        (await localValues(byId(id), `${key}-http`)).includes("local-http") ? true : undefined,
      );
    }
  }, 60_000);
});
