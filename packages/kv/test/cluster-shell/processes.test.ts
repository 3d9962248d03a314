/**
 * Real processes: a cluster of `scaleout kv node --cluster` processes started
 * through LocalCluster (the same code as `scaleout kv up`), free ports on
 * 127.0.0.1, temp data dirs, ioredis as the client. Bounded: one cluster for
 * the whole file, each wait has a deadline.
 */
import { readFileSync, rmSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClusterClient,
  fetchStatus,
  LocalCluster,
  type LocalNode,
  type ShellStatus,
} from "../../src/cluster-shell/index.js";
import { NODE_PROCESS_FLAGS } from "../../src/limits.js";
import { CLI, clusterPortBases, tempDir, until } from "../helpers.js";

const TUNING = JSON.stringify({ antiEntropyIntervalMs: 20 });

function client(node: LocalNode): Redis {
  const redis = new Redis({ host: "127.0.0.1", port: node.respPort, maxRetriesPerRequest: 0 });
  redis.on("error", () => {}); // reconnects after a kill are expected
  return redis;
}

/** Every running node sees every member up. */
async function allUp(cluster: LocalCluster): Promise<void> {
  await until("every member up everywhere", async () =>
    (await statuses(cluster)).every((status) => status.members.every((m) => m.up))
      ? true
      : undefined,
  );
}

async function statuses(cluster: LocalCluster): Promise<ShellStatus[]> {
  return Promise.all(
    cluster.nodes
      .filter((node) => node.process !== null)
      .map((node) => fetchStatus(`127.0.0.1:${node.respPort}`)),
  );
}

/** Every partition's home replicas report the same Merkle root; no hints or transfers left. */
function converged(all: ShellStatus[]): boolean {
  const roots = new Map<string, Set<string>>();
  for (const status of all) {
    if (status.hintBacklog.length > 0 || status.transfersOut.length > 0) return false;
    for (const [partition, root] of Object.entries(status.roots)) {
      const set = roots.get(partition) ?? new Set<string>();
      set.add(root);
      roots.set(partition, set);
    }
  }
  return [...roots.values()].every((set) => set.size === 1);
}

describe("a cluster of real node processes", () => {
  let cluster: LocalCluster;
  let dir: string;
  const clients: Redis[] = [];
  const open = (node: LocalNode) => {
    const redis = client(node);
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => {
    dir = tempDir("cluster");
    cluster = await LocalCluster.start({
      nodes: 3,
      dataRoot: dir,
      cliEntry: CLI,
      bind: "127.0.0.1",
      // Port runs below the ephemeral range: a port from freePort() (base 0) can be taken by
      // another process's outgoing connection before the node binds it, and the node exits.
      ...(await clusterPortBases(5)),
      dcs: 1,
      mode: "siblings",
      appendfsync: "everysec",
      logLevel: "warn",
      env: { SCALEOUT_KV_CLUSTER_TUNING: TUNING },
    });
    await allUp(cluster);
  }, 60_000);

  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("starts every node process with the node V8 flags (NODE_PROCESS_FLAGS)", () => {
    for (const node of cluster.nodes) {
      const argv = readFileSync(`/proc/${node.process!.pid}/cmdline`, "utf8").split("\0");
      for (const flag of NODE_PROCESS_FLAGS) expect(argv).toContain(flag);
    }
  });

  it("a write through one node is read through another; counters and deletes", async () => {
    const [n1, , n3] = cluster.nodes;
    const a = open(n1!);
    const c = open(n3!);
    expect(await a.set("greeting", "hello")).toBe("OK");
    expect(await c.get("greeting")).toBe("hello");
    expect(await a.set(Buffer.from([0, 255]), Buffer.from([13, 10]))).toBe("OK");
    expect(await c.getBuffer(Buffer.from([0, 255]))).toEqual(Buffer.from([13, 10]));
    expect(await a.incr("visits")).toBe(1);
    expect(await c.incrby("visits", 5)).toBe(6);
    expect(await c.decr("visits")).toBe(5);
    expect(await a.get("visits")).toBe("5");
    expect(await c.exists("greeting", "nothing")).toBe(1);
    expect(await a.del("greeting", "nothing")).toBe(1);
    expect(await c.get("greeting")).toBeNull();
    await expect(a.mget("x", "y")).rejects.toThrow(/not supported in cluster mode/);
    // MSET too, however its request arrives (the node's own MSET runs from argument ranges).
    for (let i = 0; i < 2; i++) {
      await expect(a.mset("x", "1", "y", "2")).rejects.toThrow(/not supported in cluster mode/);
    }
    expect(await c.get("x")).toBeNull();
  });

  it("KV.GET shows siblings after concurrent blind writes; a KV.PUT with the context resolves them", async () => {
    const [n1, n2] = cluster.nodes;
    const a = open(n1!);
    const b = open(n2!);
    await Promise.all([
      a.call("KV.PUT", "cart", "", "apple"),
      b.call("KV.PUT", "cart", "", "pear"),
    ]);
    const [context, values] = (await a.call("KV.GET", "cart")) as [string, string[]];
    expect([...values].sort()).toEqual(["apple", "pear"]);
    // GET answers one value (the newest) so Redis clients keep working.
    expect(["apple", "pear"]).toContain(await b.get("cart"));
    await b.call("KV.PUT", "cart", context, "apple+pear", "W", "3");
    const [, resolved] = (await a.call("KV.GET", "cart", "R", "3")) as [string, string[]];
    expect(resolved).toEqual(["apple+pear"]);
    await expect(a.call("KV.GET", "cart", "R", "4")).rejects.toThrow(/SCALEOUT_ERR_KV_BAD_QUORUM/);
  });

  it("HTTP: 300 Multiple Choices with siblings, a PUT with X-Scaleout-Context resolves them", async () => {
    const [n1, n2, n3] = cluster.nodes;
    const url = (node: LocalNode, key: string) => `http://127.0.0.1:${node.httpPort}/kv/${key}`;
    expect((await fetch(url(n1!, "photo"))).status).toBe(404);
    await Promise.all([
      fetch(url(n1!, "photo"), { method: "PUT", body: "v1" }),
      fetch(url(n2!, "photo"), { method: "PUT", body: "v2" }),
    ]);
    const multiple = await fetch(url(n3!, "photo"));
    expect(multiple.status).toBe(300);
    const body = (await multiple.json()) as { context: string; siblings: { value: string }[] };
    const values = body.siblings.map((s) => Buffer.from(s.value, "base64").toString()).sort();
    expect(values).toEqual(["v1", "v2"]);
    const context = multiple.headers.get("x-scaleout-context")!;
    expect(context).toBe(body.context);
    const put = await fetch(url(n1!, "photo"), {
      method: "PUT",
      body: "merged",
      headers: { "X-Scaleout-Context": context },
    });
    expect(put.status).toBe(204);
    const single = await fetch(url(n2!, "photo?r=3"));
    expect(single.status).toBe(200);
    expect(await single.text()).toBe("merged");
    expect((await fetch(url(n3!, "photo?r=9"))).status).toBe(400);
    expect((await fetch(url(n1!, "photo"), { method: "DELETE" })).status).toBe(204);
    expect((await fetch(url(n2!, "photo"))).status).toBe(404);
  });

  it("the cluster-aware client routes each key to a home replica", async () => {
    const seeds = cluster.nodes.map((node) => `127.0.0.1:${node.respPort}`);
    const routed = await ClusterClient.connect(seeds);
    try {
      for (let i = 0; i < 30; i++) expect(await routed.set(`routed:${i}`, `r${i}`)).toBe("OK");
      const other = open(cluster.nodes[1]!);
      for (let i = 0; i < 30; i += 3) expect(await other.get(`routed:${i}`)).toBe(`r${i}`);
      expect(cluster.nodes.map((n) => n.id)).toContain(routed.coordinatorFor("routed:1"));
      const before = await routed.kvGet("routed:1");
      await routed.kvPut("routed:1", before.context, "next");
      expect((await routed.kvGet("routed:1")).siblings.map(String)).toEqual(["next"]);
    } finally {
      routed.close();
    }
  });

  it("kill -9 of one node: W=2 writes still succeed; it comes back and converges", async () => {
    const [n1, n2, n3] = cluster.nodes;
    const a = open(n1!);
    await cluster.kill(n3!.id);
    for (let i = 0; i < 50; i++) expect(await a.set(`down:${i}`, `v${i}`)).toBe("OK");
    // W=3 cannot be met with a replica dead: a clear error naming the count.
    await expect(a.call("KV.PUT", "strict", "", "x", "W", "3")).rejects.toThrow(
      /SCALEOUT_ERR_KV_(TIMEOUT|UNAVAILABLE)/,
    );
    await cluster.restart(n3!.id);
    await allUp(cluster);
    // Converged: identical Merkle roots on every partition's replicas.
    await until("convergence after restart", async () =>
      converged(await statuses(cluster)) ? true : undefined,
    );
    const n3Status = await fetchStatus(`127.0.0.1:${n3!.respPort}`);
    const n2Status = await fetchStatus(`127.0.0.1:${n2!.respPort}`);
    expect(n3Status.keys).toBe(n2Status.keys);
    // Read at R=1 from the returned node alone sees the writes it missed.
    const c = open(n3!);
    for (let i = 0; i < 50; i += 7) {
      const [, values] = (await c.call("KV.GET", `down:${i}`, "R", "1")) as [string, string[]];
      expect(values).toEqual([`v${i}`]);
    }
  }, 90_000);

  it("a 4th node joins: ranges move to it and every key stays readable", async () => {
    const [n1] = cluster.nodes;
    const a = open(n1!);
    const pipeline = a.pipeline();
    for (let i = 0; i < 400; i++) pipeline.set(`join:${i}`, String(i));
    await pipeline.exec();
    const n4 = await cluster.addNode();
    const d = open(n4);
    await until(
      "transfers to n4",
      async () => {
        const all = await statuses(cluster);
        const fourth = all.find((status) => status.id === "n4");
        return fourth !== undefined && fourth.keys > 0 && converged(all) ? true : undefined;
      },
      60_000,
    );
    const fourth = await fetchStatus(`127.0.0.1:${n4.respPort}`);
    // With N=3 of 4 nodes, a node is home for ~3/4 of the partitions.
    expect(fourth.partitionsOwned).toBeGreaterThan(128);
    expect(fourth.partitionsOwned).toBeLessThan(256);
    for (let i = 0; i < 400; i += 13) expect(await d.get(`join:${i}`)).toBe(String(i));
  }, 120_000);

  it("sloppy quorum: with a node down, fallbacks keep durable hints and replay them when it returns", async () => {
    const [n1, n2] = cluster.nodes;
    const a = open(n1!);
    await cluster.kill(n2!.id);
    await until("n2 marked down", async () => {
      const all = await statuses(cluster);
      return all.every((s) => s.members.find((m) => m.id === "n2")?.up === false)
        ? true
        : undefined;
    });
    for (let i = 0; i < 100; i++) expect(await a.set(`hinted:${i}`, `h${i}`)).toBe("OK");
    const backlog = (await statuses(cluster)).flatMap((s) => s.hintBacklog);
    expect(backlog.some((entry) => entry.owner === "n2" && entry.hints > 0)).toBe(true);
    await cluster.restart(n2!.id);
    await until(
      "hints replayed and replicas converged",
      async () => {
        const all = await statuses(cluster);
        return converged(all) && all.some((s) => s.counters.hintsReplayed > 0) ? true : undefined;
      },
      60_000,
    );
    const b = open(n2!);
    for (let i = 0; i < 100; i += 9) {
      const [, values] = (await b.call("KV.GET", `hinted:${i}`, "R", "1")) as [string, string[]];
      expect(values).toEqual([`h${i}`]);
    }
  }, 90_000);

  it("scaleout kv leave: the 4th node hands its ranges back and becomes 'left'; keys stay readable", async () => {
    const n4 = cluster.node("n4");
    const { execFile } = await import("node:child_process");
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, "kv", "leave", "--node", `127.0.0.1:${n4.respPort}`],
        (error) => (error === null ? resolve() : reject(error)),
      ),
    );
    await until(
      "n4 left",
      async () => {
        const all = await statuses(cluster);
        const seen = all
          .filter((s) => s.id !== "n4")
          .map((s) => s.members.find((m) => m.id === "n4")?.status);
        const fourth = all.find((s) => s.id === "n4");
        return seen.every((status) => status === "left") && fourth?.keys === 0 ? true : undefined;
      },
      60_000,
    );
    const a = open(cluster.nodes[0]!);
    for (let i = 0; i < 400; i += 17) expect(await a.get(`join:${i}`)).toBe(String(i));
    const remaining = await fetchStatus(`127.0.0.1:${cluster.nodes[0]!.respPort}`);
    expect(remaining.partitionsOwned).toBe(256);
  }, 90_000);

  it("replacing a dead node: scaleout kv remove, then a new node takes its ranges", async () => {
    const [n1, n2, n3] = cluster.nodes;
    await cluster.kill(n3!.id);
    const { execFile } = await import("node:child_process");
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, "kv", "remove", "--node", `127.0.0.1:${n1!.respPort}`, "--member", "n3"],
        (error) => (error === null ? resolve() : reject(error)),
      ),
    );
    // Every member still in the cluster: n4, which left in the test before, still runs but
    // nobody gossips to a left node any more, so its view of others may stay behind.
    await until(
      "n3 left everywhere",
      async () => {
        const all = await statuses(cluster);
        const members = all.filter((s) => s.members.find((m) => m.id === s.id)?.status !== "left");
        return members.every((s) => s.members.find((m) => m.id === "n3")?.status === "left")
          ? true
          : undefined;
      },
      60_000,
    );
    const a = open(n1!);
    expect(await a.set("after-removal", "yes")).toBe("OK");
    const replacement = await cluster.addNode();
    await until(
      "the replacement holds every key",
      async () => {
        const all = await statuses(cluster);
        const fresh = all.find((s) => s.id === replacement.id);
        const first = all.find((s) => s.id === n1!.id);
        return fresh !== undefined &&
          first !== undefined &&
          fresh.keys === first.keys &&
          fresh.partitionsOwned === 256 &&
          converged(all)
          ? true
          : undefined;
      },
      60_000,
    );
    const b = open(n2!);
    expect(await b.get("after-removal")).toBe("yes");
    const [, values] = (await open(replacement).call("KV.GET", "join:13", "R", "1")) as [
      string,
      string[],
    ];
    expect(values).toEqual(["13"]);
  }, 90_000);
});
