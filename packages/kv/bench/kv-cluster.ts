/**
 * Benchmark suite `kv-cluster`: a 3-node cluster (N=3, W=2, R=2, lsm,
 * appendfsync everysec) of real node processes against a single node (lsm,
 * everysec) started in the same run, all on 127.0.0.1 of one machine.
 *
 *   1. redis-benchmark (SET, GET; 50 clients; no pipelining) against one
 *      cluster node (which coordinates or forwards) vs the single node.
 *   2. The cluster-aware client (ClusterClient: routes each key to a home
 *      replica over pipelined connections to all nodes), 64 requests in
 *      flight, SET then GET, vs the same load over one connection pool to
 *      the single node. requests/s, p50, p99.
 *   3. Anti-entropy cost: redis-benchmark SET on a cluster whose nodes run
 *      anti-entropy continuously (an exchange every 10 ms) vs one with it off.
 *   4. Adding a 4th node to the cluster holding K keys (full: 1 M; quick:
 *      20 k, for the 45 s budget; SCALEOUT_BENCH_JOIN_KEYS overrides). The
 *      keys are bulk-loaded into the three nodes' data directories before
 *      they start (bulkLoadObjects: the records each node would have
 *      persisted, one 32-byte value per key), because loading 1 M keys
 *      through the cluster at ~3 k writes/s would take the whole budget.
 *      Measured: keys streamed vs the ideal — the keys the 4th node ends up
 *      holding, each of which must move once (~3K/4: it becomes home of ~3/4
 *      of the partitions) — time until every transfer is done and the
 *      replicas agree, and client p50/p99 (ClusterClient GETs, 4 loops)
 *      during the transfer vs before the join.
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type BenchResult, defineSuite, median, quantile, result } from "@scaleout/bench";
import { EMPTY_OBJECT, type KeyObject } from "@scaleout/kv/cluster";
import {
  bulkLoadObjects,
  ClusterClient,
  convergedStatuses,
  fetchStatus,
  LocalCluster,
  RespClient,
} from "@scaleout/kv/cluster-shell";
import { CLI_PATH, exitOf, freePort, stopChild, tempDir, waitForPort } from "@scaleout/testkit";

const run = promisify(execFile);
/** How long the single node may take to listen. */
const SINGLE_START_TIMEOUT_MS = 20_000;
const CLIENTS = 50;
const IN_FLIGHT = 64;
/** Concurrent GET loops measuring client latency before and during the join. */
const PROBE_LOOPS = 4;
const BULK_VALUE = new TextEncoder().encode("x".repeat(32));

/** The join test's data set, as objects written by the bulk actor (one dot per key). */
function* bulkEntries(keys: number, wallMs: number): Generator<[string, KeyObject]> {
  for (let i = 0; i < keys; i++) {
    yield [
      `key:${i}`,
      {
        ...EMPTY_OBJECT,
        siblings: [
          {
            dot: { actor: "bulk:1.0", counter: i + 1 },
            vv: {},
            hlc: { wallMs, logical: 0 },
            value: BULK_VALUE,
          },
        ],
      },
    ];
  }
}

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function redisBenchmark(port: number, test: string, requests: number): Promise<Figures> {
  const { stdout } = await run(
    "redis-benchmark",
    [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-c",
      String(CLIENTS),
      "-n",
      String(requests),
      "-r",
      "100000",
      "-t",
      test,
      "--csv",
    ],
    { maxBuffer: 1024 * 1024 },
  );
  const cells = stdout
    .trim()
    .split("\n")[1]!
    .split(",")
    .map((c) => c.replaceAll('"', ""));
  return { rps: Number(cells[1]), p50Ms: Number(cells[4]), p99Ms: Number(cells[6]) };
}

/** `inFlight` loops issuing `send(i)` for `durationMs`; requests/s and latency quantiles. */
async function closedLoop(
  send: (i: number) => Promise<unknown>,
  durationMs: number,
  inFlight = IN_FLIGHT,
): Promise<Figures & { errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const end = Date.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        try {
          await send(next++);
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    rps: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    errors,
  };
}

async function singleNode(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      "kv",
      "node",
      "--engine",
      "lsm",
      "--port",
      String(port),
      "--memcached-port",
      "0",
      "--http-port",
      "0",
      "--data-dir",
      join(dir, "single"),
      "--appendfsync",
      "everysec",
      "--log-level",
      "warn",
    ],
    { stdio: "ignore" },
  );
  const exited = exitOf(child);
  const stop = async () => {
    await stopChild(child, exited);
  };
  try {
    await waitForPort(port, SINGLE_START_TIMEOUT_MS, { process: child, what: "single node" });
    const c = await RespClient.connect("127.0.0.1", port, 5_000);
    await c.command(["PING"]);
    c.close();
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

function startCluster(
  dir: string,
  name: string,
  tuning: object = {},
  readyTimeoutMs = 60_000,
): Promise<LocalCluster> {
  return LocalCluster.start({
    readyTimeoutMs,
    nodes: 3,
    dataRoot: join(dir, name),
    cliEntry: CLI_PATH,
    bind: "127.0.0.1",
    respPortBase: 0,
    httpPortBase: 0,
    peerPortBase: 0,
    dcs: 1,
    mode: "siblings",
    appendfsync: "everysec",
    logLevel: "warn",
    env: { SCALEOUT_KV_CLUSTER_TUNING: JSON.stringify(tuning) },
  });
}

async function waitAllUp(cluster: LocalCluster): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const all = await Promise.all(
        cluster.nodes.map((n) => fetchStatus(`127.0.0.1:${n.respPort}`)),
      );
      if (
        all.every((s) => s.members.length === cluster.nodes.length && s.members.every((m) => m.up))
      )
        return;
    } catch {
      // starting
    }
    await sleep(100);
  }
  throw new Error("cluster members never all up");
}

function push(
  results: BenchResult[],
  name: string,
  ours: Figures,
  peerName: string,
  peer: Figures,
  notes: BenchResult["notes"],
) {
  results.push(
    result(`${name} req/s`, "req/s", ours.rps, { name: peerName, value: peer.rps }, notes),
  );
  results.push(result(`${name} p50`, "ms", ours.p50Ms, { name: peerName, value: peer.p50Ms }));
  results.push(result(`${name} p99`, "ms", ours.p99Ms, { name: peerName, value: peer.p99Ms }));
}

export default defineSuite({
  name: "kv-cluster",
  description:
    "3-node cluster (N=3 W=2 R=2) vs a single node: redis-benchmark, cluster-aware client, anti-entropy cost, adding a 4th node",
  async run(context) {
    const quick = context.quick;
    const scratch = tempDir("bench-kv-cluster");
    const dir = scratch.dir;
    const results: BenchResult[] = [];
    const rounds = quick ? 1 : 3;
    const requests = quick ? 5_000 : 50_000;
    const loopMs = quick ? 1_500 : 8_000;
    const single = await singleNode(dir);
    let cluster: LocalCluster | undefined;
    try {
      context.progress("starting the 3-node cluster");
      cluster = await startCluster(dir, "main");
      await waitAllUp(cluster);
      const n1 = cluster.nodes[0]!;
      // 1. redis-benchmark against one cluster node vs the single node.
      for (const test of ["set", "get"]) {
        const ours: Figures[] = [];
        const peer: Figures[] = [];
        for (let round = 0; round < rounds; round++) {
          context.progress(`redis-benchmark ${test}, round ${round + 1}/${rounds}`);
          ours.push(await redisBenchmark(n1.respPort, test, requests));
          peer.push(await redisBenchmark(single.port, test, requests));
        }
        const pick = (runs: Figures[]): Figures => ({
          rps: median(runs.map((f) => f.rps)),
          p50Ms: median(runs.map((f) => f.p50Ms)),
          p99Ms: median(runs.map((f) => f.p99Ms)),
        });
        push(
          results,
          `redis-benchmark ${test.toUpperCase()} → 1 of 3 nodes`,
          pick(ours),
          "single node (lsm)",
          pick(peer),
          { clients: CLIENTS, requests, rounds },
        );
      }
      // 2. Cluster-aware client against all nodes vs one connection pool to the single node.
      context.progress("cluster-aware client");
      const routed = await ClusterClient.connect(
        cluster.nodes.map((n) => `127.0.0.1:${n.respPort}`),
      );
      const pool = await Promise.all(
        Array.from({ length: 4 }, () => RespClient.connect("127.0.0.1", single.port)),
      );
      try {
        for (const op of ["SET", "GET"] as const) {
          const ours = await closedLoop(
            (i) =>
              op === "SET" ? routed.set(`cc:${i % 100_000}`, "v") : routed.get(`cc:${i % 100_000}`),
            loopMs,
          );
          const peer = await closedLoop(
            (i) =>
              pool[i % pool.length]!.command(
                op === "SET" ? ["SET", `cc:${i % 100_000}`, "v"] : ["GET", `cc:${i % 100_000}`],
              ),
            loopMs,
          );
          push(
            results,
            `cluster-aware client ${op} → 3 nodes`,
            ours,
            "same load → single node",
            peer,
            { inFlight: IN_FLIGHT, durationMs: loopMs, errors: ours.errors },
          );
        }
      } finally {
        routed.close();
        for (const c of pool) c.close();
      }
    } finally {
      await cluster?.stop();
    }
    // 3. Anti-entropy cost: continuous exchanges vs off, same SET load.
    try {
      context.progress("anti-entropy cost: cluster with AE off");
      const off = await startCluster(dir, "ae-off", { antiEntropyIntervalMs: 1e9 });
      let offFigures: Figures;
      try {
        await waitAllUp(off);
        offFigures = await redisBenchmark(off.nodes[0]!.respPort, "set", requests);
      } finally {
        await off.stop();
      }
      context.progress("anti-entropy cost: cluster with AE every 10 ms");
      const on = await startCluster(dir, "ae-on", { antiEntropyIntervalMs: 10 });
      try {
        await waitAllUp(on);
        const onFigures = await redisBenchmark(on.nodes[0]!.respPort, "set", requests);
        const status = await fetchStatus(`127.0.0.1:${on.nodes[0]!.respPort}`);
        push(
          results,
          "redis-benchmark SET with anti-entropy every 10 ms",
          onFigures,
          "anti-entropy off",
          offFigures,
          {
            exchanges: status.counters.antiEntropyExchanges,
            keysRepaired: status.counters.antiEntropyKeysRepaired,
          },
        );
      } finally {
        await on.stop();
      }
      // 4. Adding a 4th node to a loaded cluster.
      const keys = Number(process.env.SCALEOUT_BENCH_JOIN_KEYS ?? (quick ? 20_000 : 1_000_000));
      const loadStartedAt = Date.now();
      for (const id of ["n1", "n2", "n3"]) {
        context.progress(`join: bulk-loading ${keys} keys into ${id}'s data directory`);
        await bulkLoadObjects(join(dir, "join", id), bulkEntries(keys, loadStartedAt));
      }
      context.progress("join: starting the 3 nodes (each restores every key)");
      const grow = await startCluster(dir, "join", {}, 15 * 60_000);
      try {
        await waitAllUp(grow);
        for (;;) {
          const all = await Promise.all(
            grow.nodes.map((n) => fetchStatus(`127.0.0.1:${n.respPort}`)),
          );
          if (all.every((s) => s.keys === keys)) break;
          await sleep(500);
        }
        const loader = await ClusterClient.connect(
          grow.nodes.map((n) => `127.0.0.1:${n.respPort}`),
        );
        context.progress(
          `join: ${keys} keys held by every node after ${((Date.now() - loadStartedAt) / 1000).toFixed(0)} s; measuring latency before the join`,
        );
        const before = await closedLoop(
          (i) => loader.get(`key:${(i * 7919) % keys}`),
          quick ? 2_000 : 5_000,
          PROBE_LOOPS,
        );
        const streamedBefore = (
          await Promise.all(grow.nodes.map((n) => fetchStatus(`127.0.0.1:${n.respPort}`)))
        ).reduce((sum, s) => sum + s.counters.keysStreamed, 0);
        context.progress("join: adding n4");
        const startedAt = Date.now();
        await grow.addNode();
        await loader.refresh();
        const latencies: number[] = [];
        let errors = 0;
        let done = false;
        let probeIndex = 0;
        const probe = Promise.all(
          Array.from({ length: PROBE_LOOPS }, async () => {
            while (!done) {
              const t = performance.now();
              try {
                await loader.get(`key:${(probeIndex++ * 104_729) % keys}`);
                latencies.push(performance.now() - t);
              } catch {
                errors++;
              }
            }
          }),
        );
        let transferMs = Number.NaN;
        let streamed = 0;
        let fourthKeys = 0;
        const deadline = Date.now() + (quick ? 25_000 : 900_000);
        let nextProgressAt = 0;
        while (Date.now() < deadline) {
          const all = await Promise.all(
            grow.nodes.map((n) => fetchStatus(`127.0.0.1:${n.respPort}`)),
          );
          const fourth = all.find((s) => s.id === "n4")!;
          streamed = all.reduce((sum, s) => sum + s.counters.keysStreamed, 0) - streamedBefore;
          fourthKeys = fourth.keys;
          if (Date.now() >= nextProgressAt) {
            nextProgressAt = Date.now() + 10_000;
            context.progress(
              `join: ${((Date.now() - startedAt) / 1000).toFixed(0)} s, n4 holds ${fourthKeys} keys, ` +
                `${streamed} streamed, ${all.reduce((sum, s) => sum + s.transfersOut.length, 0)} transfers left`,
            );
          }
          if (
            fourth.keys > 0 &&
            all.every((s) => s.transfersOut.length === 0) &&
            convergedStatuses(all)
          ) {
            transferMs = Date.now() - startedAt;
            break;
          }
          await sleep(200);
        }
        done = true;
        await probe;
        loader.close();
        results.push(
          result(
            "join: keys streamed to the new node",
            "keys",
            streamed,
            { name: "ideal (keys the new node owns)", value: fourthKeys },
            { keys, threeQuarters: Math.round((keys * 3) / 4) },
          ),
        );
        results.push(
          result(
            "join: time until transfers done and replicas agree",
            "s",
            transferMs / 1000,
            null,
            { keys },
          ),
        );
        results.push(
          result(
            "join: GET p50 during transfer",
            "ms",
            quantile(latencies, 0.5),
            { name: "before the join", value: before.p50Ms },
            { requests: latencies.length, errors },
          ),
        );
        results.push(
          result("join: GET p99 during transfer", "ms", quantile(latencies, 0.99), {
            name: "before the join",
            value: before.p99Ms,
          }),
        );
      } finally {
        await grow.stop();
      }
    } finally {
      await single.stop();
      scratch.cleanup();
    }
    return results;
  },
});
