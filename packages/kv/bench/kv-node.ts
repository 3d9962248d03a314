/**
 * Benchmark suite `kv-node`: redis-benchmark (SET, GET, INCR, MSET; 50
 * clients; without pipelining and with -P 16) against
 *   1. redis-server with appendonly yes / appendfsync everysec vs our node
 *      with the lsm engine and appendfsync everysec, and
 *   2. redis-server without persistence vs our node with the memory engine,
 * in the same run, alternating ours and the peer per round. Reports
 * requests/s, p50 and p99 latency (as measured by redis-benchmark) and the
 * ratios. Both servers are separate processes on 127.0.0.1 of the same
 * machine; redis-benchmark shares the machine with them.
 */
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type BenchResult, defineSuite, median, result } from "@scaleout/bench";
import {
  CLI_PATH,
  exitOf,
  freePort,
  startRedisServer,
  stopChild,
  tempDir,
  waitForPort,
} from "@scaleout/testkit";
import { NODE_PROCESS_FLAGS } from "../src/limits.js";

const run = promisify(execFile);
const CLIENTS = 50;
const TESTS = ["SET", "GET", "INCR", "MSET"] as const;
const KEYSPACE = 100_000;
/** How long a server may take to listen (the lsm node opens its engine first). */
const START_TIMEOUT_MS = 20_000;

interface Figures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

interface Server {
  name: string;
  port: number;
  stop(): Promise<void>;
}

async function redisServer(persistent: boolean): Promise<Server> {
  const redis = await startRedisServer({
    prefix: "bench-kv",
    appendonly: persistent,
    appendfsync: "everysec",
    startTimeoutMs: START_TIMEOUT_MS,
  });
  return {
    name: `redis-server (${persistent ? "aof everysec" : "no persistence"})`,
    port: redis.port,
    stop: () => redis.stop(),
  };
}

async function ourNode(engine: "lsm" | "memory"): Promise<Server> {
  const port = await freePort();
  const scratch = tempDir("bench-kv");
  const child = spawn(
    process.execPath,
    [
      ...NODE_PROCESS_FLAGS,
      CLI_PATH,
      "kv",
      "node",
      "--engine",
      engine,
      "--port",
      String(port),
      "--memcached-port",
      "0",
      "--http-port",
      "0",
      "--data-dir",
      join(scratch.dir, "data"),
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
    scratch.cleanup();
  };
  try {
    await waitForPort(port, START_TIMEOUT_MS, { process: child, what: `kv node (${engine})` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: `scaleout kv (${engine}${engine === "lsm" ? ", everysec" : ""})`, port, stop };
}

/** One redis-benchmark run of all tests; figures per test name. */
async function benchmark(
  port: number,
  pipeline: number,
  requests: number,
): Promise<Map<string, Figures>> {
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
      "-P",
      String(pipeline),
      "-r",
      String(KEYSPACE),
      "-t",
      TESTS.join(",").toLowerCase(),
      "--csv",
    ],
    { maxBuffer: 1024 * 1024 },
  );
  const figures = new Map<string, Figures>();
  for (const line of stdout.trim().split("\n").slice(1)) {
    const cells = line.split(",").map((cell) => cell.replaceAll('"', ""));
    const name = cells[0]!.split(" ")[0]!;
    figures.set(name, { rps: Number(cells[1]), p50Ms: Number(cells[4]), p99Ms: Number(cells[6]) });
  }
  return figures;
}

export default defineSuite({
  name: "kv-node",
  description:
    "redis-benchmark against redis-server and a scaleout kv node (lsm vs AOF everysec; memory vs no persistence)",
  async run(context) {
    const rounds = context.quick ? 1 : 3;
    const results: BenchResult[] = [];
    const pairs: [() => Promise<Server>, () => Promise<Server>, string][] = [
      [() => ourNode("lsm"), () => redisServer(true), "durable"],
      [() => ourNode("memory"), () => redisServer(false), "cache"],
    ];
    for (const [startOurs, startPeer, label] of pairs) {
      const ours = await startOurs();
      const peer = await startPeer();
      try {
        for (const pipeline of [1, 16]) {
          const requests = (context.quick ? 12_000 : 100_000) * (pipeline === 1 ? 1 : 4);
          const oursRuns: Map<string, Figures>[] = [];
          const peerRuns: Map<string, Figures>[] = [];
          for (let round = 0; round < rounds; round++) {
            context.progress(`${label}: -P ${pipeline}, round ${round + 1}/${rounds}`);
            // Alternate which side goes first so drift on a shared machine hits both.
            if (round % 2 === 0) {
              oursRuns.push(await benchmark(ours.port, pipeline, requests));
              peerRuns.push(await benchmark(peer.port, pipeline, requests));
            } else {
              peerRuns.push(await benchmark(peer.port, pipeline, requests));
              oursRuns.push(await benchmark(ours.port, pipeline, requests));
            }
          }
          for (const test of TESTS) {
            const pick = (runs: Map<string, Figures>[], field: keyof Figures): number =>
              median(runs.map((figures) => figures.get(test)?.[field] ?? 0));
            const name = `${test} -P${pipeline} ${ours.name}`;
            const notes = { clients: CLIENTS, requests, rounds };
            results.push(
              result(
                `${name} req/s`,
                "req/s",
                pick(oursRuns, "rps"),
                { name: peer.name, value: pick(peerRuns, "rps") },
                notes,
              ),
            );
            results.push(
              result(`${name} p50`, "ms", pick(oursRuns, "p50Ms"), {
                name: peer.name,
                value: pick(peerRuns, "p50Ms"),
              }),
            );
            results.push(
              result(`${name} p99`, "ms", pick(oursRuns, "p99Ms"), {
                name: peer.name,
                value: pick(peerRuns, "p99Ms"),
              }),
            );
          }
        }
      } finally {
        await ours.stop();
        await peer.stop();
      }
    }
    return results;
  },
});
