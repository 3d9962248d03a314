/**
 * Test helpers of @scaleout/kv: real memcached processes and our node as a
 * real process (the CLI), on top of @scaleout/testkit (free ports, waiting
 * for a port, temp directories, redis-server, stopping children), and a raw
 * RESP client that returns replies exactly as parsed from the wire.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import {
  CLI_PATH,
  exitOf,
  freePort,
  type RedisServer,
  START_TIMEOUT_MS,
  startRedisServer,
  stopChild,
  tempDir as testkitTempDir,
  waitForPort,
} from "@scaleout/testkit";
import { UP_STOP_TIMEOUT_MS } from "../src/cluster-shell/constants.js";

export const CLI = CLI_PATH;

/**
 * How long a node process may take to listen. Generous: on a loaded 2-core
 * machine (CI, other suites spawning processes) starting Node and the engine
 * can take many seconds; a healthy start is not slowed by it.
 */
const NODE_START_TIMEOUT_MS = 60_000;

/** A fresh directory `scaleout-kv-<prefix>-XXXXXX` under the OS temp dir (the caller removes it). */
export function tempDir(prefix: string): string {
  return testkitTempDir(`kv-${prefix}`).dir;
}

/** `count` distinct free ports (freePort alone may hand out the same port twice). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** True when nothing listens on 127.0.0.1:port (a bind succeeds). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Ports 20 000–29 999 split into one band per Vitest worker (see portRuns). */
const PORT_BAND_SIZE = 1_250;
const PORT_BANDS = 8;

/**
 * Bases of `runs` runs of `length` consecutive free ports (base, base+1, …),
 * 100 apart, below the ephemeral range so freePort() never hands them out:
 * for `kv up`, which numbers its nodes' ports from a base. Each Vitest worker
 * draws from its own band: a port checked free is bound only later, and two
 * test files running at once could otherwise pick the same run in between.
 */
export async function portRuns(length: number, runs: number): Promise<number[]> {
  const worker = Number(process.env.VITEST_POOL_ID ?? "1");
  const band = 20_000 + ((Math.max(worker, 1) - 1) % PORT_BANDS) * PORT_BAND_SIZE;
  const span = (runs - 1) * 100 + length;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = band + Math.floor(Math.random() * (PORT_BAND_SIZE - span));
    const bases = Array.from({ length: runs }, (_, run) => base + run * 100);
    const ports = bases.flatMap((first) => Array.from({ length }, (_, i) => first + i));
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return bases;
  }
  throw new Error(`no ${runs} runs of ${length} free ports`);
}

export interface Process {
  port: number;
  child: ChildProcess;
  dir: string;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

function track(child: ChildProcess): Pick<NodeProcess, "output" | "waitForOutput"> & {
  exited: Promise<number | null>;
} {
  let output = "";
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = exitOf(child);
  const waitForOutput = (match: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<string> =>
    new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        listeners.delete(check);
        clearTimeout(timer);
        settle();
      };
      function check(): void {
        if (match.test(output)) finish(() => resolve(output));
      }
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`no ${match} in output within ${timeoutMs} ms: ${output}`)),
          ),
        timeoutMs,
      );
      void exited.then((code) =>
        finish(() => {
          if (match.test(output)) resolve(output);
          else reject(new Error(`exited (${code}) before ${match} appeared in: ${output}`));
        }),
      );
      listeners.add(check);
      check();
    });
  return { output: () => output, waitForOutput, exited };
}

function stopper(child: ChildProcess, exited: Promise<number | null>, dir: string | undefined) {
  return async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    const code = await stopChild(child, exited, signal);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    return code;
  };
}

/** A private redis-server (testkit), in the shape of the other processes here. */
export async function startRedis(): Promise<Process> {
  const redis: RedisServer = await startRedisServer({ prefix: "kv-redis" });
  const exited = exitOf(redis.process);
  return {
    port: redis.port,
    child: redis.process,
    dir: redis.dir,
    output: redis.output,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      await redis.stop(signal === "SIGKILL");
      return exited;
    },
  };
}

export async function startMemcached(): Promise<Process> {
  const port = await freePort();
  // memcached refuses to run as root unless told which user to run as.
  const asUser = process.getuid?.() === 0 ? ["-u", "root"] : [];
  const child = spawn(
    "memcached",
    ["-p", String(port), "-l", "127.0.0.1", "-U", "0", "-m", "64", ...asUser],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const { output, exited } = track(child);
  await waitForPort(port, START_TIMEOUT_MS, { process: child, what: "memcached" });
  return { port, child, dir: "", output, stop: stopper(child, exited, undefined) };
}

export interface NodeProcess extends Process {
  /** Resolves with the output once it matches (fails if the process exits first or after timeoutMs). */
  waitForOutput: (match: RegExp, timeoutMs?: number) => Promise<string>;
  memcachedPort: number;
  httpPort: number;
}

export interface NodeProcessOptions {
  engine: "memory" | "lsm";
  dir?: string;
  args?: string[];
  /** Keep the data directory on stop (restart tests). */
  keepDir?: boolean;
}

/** Our node as a real process through the CLI. */
export async function startNode(options: NodeProcessOptions): Promise<NodeProcess> {
  const [port, memcachedPort, httpPort] = (await freePorts(3)) as [number, number, number];
  const dir = options.dir ?? tempDir("node");
  const child = spawn(
    process.execPath,
    [
      CLI,
      "kv",
      "node",
      "--engine",
      options.engine,
      "--port",
      String(port),
      "--memcached-port",
      String(memcachedPort),
      "--http-port",
      String(httpPort),
      "--data-dir",
      join(dir, "data"),
      "--log-level",
      "warn",
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const { output, waitForOutput, exited } = track(child);
  const stop = stopper(child, exited, options.keepDir === true ? undefined : dir);
  try {
    await waitForPort(port, NODE_START_TIMEOUT_MS, { process: child, what: "kv node" });
    await waitForPort(httpPort, NODE_START_TIMEOUT_MS, { process: child, what: "kv node http" });
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return {
    port,
    memcachedPort,
    httpPort,
    child,
    dir,
    output,
    waitForOutput,
    stop,
  };
}

/** A parsed RESP reply, exactly as on the wire (RESP2 and RESP3 types). */
export type Wire =
  | { t: "+"; v: string }
  | { t: "-"; v: string }
  | { t: ":"; v: string }
  | { t: "$"; v: string | null }
  | { t: "*"; v: Wire[] | null }
  | { t: "%"; v: [Wire, Wire][] }
  | { t: "~"; v: Wire[] }
  | { t: "_" }
  | { t: ","; v: string }
  | { t: "#"; v: boolean }
  | { t: "="; v: string };

/** Parses one reply from `buffer` at `offset`; undefined when incomplete. */
export function parseWire(buffer: Buffer, offset: number): [Wire, number] | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset]!);
  const line = buffer.subarray(offset + 1, lineEnd).toString("latin1");
  const next = lineEnd + 2;
  switch (type) {
    case "+":
    case "-":
    case ":":
    case ",":
      return [{ t: type, v: line } as Wire, next];
    case "_":
      return [{ t: "_" }, next];
    case "#":
      return [{ t: "#", v: line === "t" }, next];
    case "$":
    case "=": {
      const length = Number(line);
      if (length < 0) return [{ t: "$", v: null }, next];
      if (buffer.length < next + length + 2) return undefined;
      return [
        { t: type, v: buffer.subarray(next, next + length).toString("latin1") } as Wire,
        next + length + 2,
      ];
    }
    case "*":
    case "~":
    case "%": {
      const count = Number(line);
      if (count < 0) return [{ t: "*", v: null }, next];
      const items: Wire[] = [];
      let position = next;
      for (let i = 0; i < (type === "%" ? count * 2 : count); i++) {
        const parsed = parseWire(buffer, position);
        if (parsed === undefined) return undefined;
        items.push(parsed[0]);
        position = parsed[1];
      }
      if (type === "%") {
        const pairs: [Wire, Wire][] = [];
        for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
        return [{ t: "%", v: pairs }, position];
      }
      return [{ t: type, v: items } as Wire, position];
    }
    default:
      throw new Error(
        `unexpected reply type byte ${buffer[offset]} in ${JSON.stringify(buffer.toString("latin1"))}`,
      );
  }
}

/** `data` cut at the given points (taken modulo its length + 1; pieces may be empty), as TCP might split it. */
export function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const point of points) {
    chunks.push(data.subarray(previous, point));
    previous = point;
  }
  chunks.push(data.subarray(previous));
  return chunks;
}

export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg, "latin1") : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Default deadline of RawClient's waits (a reply, a close, bytes): generous,
 * since it only bounds a wait that is already failing; a loaded machine must
 * not turn a slow answer into a failure.
 */
const REPLY_TIMEOUT_MS = 30_000;

/** A raw RESP connection: send bytes, read whole replies, see when the server closes. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((done, reject) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => done(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private changed(timeoutMs: number): Promise<boolean> {
    return new Promise((done) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        done(true);
      });
    });
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  async command(...args: (string | Buffer)[]): Promise<Wire> {
    this.write(encodeCommand(args));
    return this.read();
  }

  /** The next reply; throws if the connection closes or nothing arrives within timeoutMs. */
  async read(timeoutMs = REPLY_TIMEOUT_MS): Promise<Wire> {
    for (;;) {
      const parsed = this.buffer.length > 0 ? parseWire(this.buffer, 0) : undefined;
      if (parsed !== undefined) {
        this.buffer = this.buffer.subarray(parsed[1]);
        return parsed[0];
      }
      if (this.closed) throw new Error("connection closed");
      if (!(await this.changed(timeoutMs))) throw new Error("timed out waiting for a reply");
    }
  }

  /** Raw bytes received so far (and clears them). */
  take(): Buffer {
    const data = this.buffer;
    this.buffer = Buffer.alloc(0);
    return data;
  }

  /** Waits until the peer closes (true) or the timeout passes (false). */
  async waitClosed(timeoutMs = REPLY_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.changed(left);
    }
    return true;
  }

  /** Collects bytes until `predicate` holds on them or the timeout passes. */
  async readUntil(
    predicate: (data: Buffer) => boolean,
    timeoutMs = REPLY_TIMEOUT_MS,
  ): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.buffer) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.changed(left);
    }
    return this.take();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Base ports for a LocalCluster of `nodes` processes: runs of free ports (resp, http, peer). */
export async function clusterPortBases(
  nodes: number,
): Promise<{ respPortBase: number; httpPortBase: number; peerPortBase: number }> {
  const [respPortBase, httpPortBase, peerPortBase] = (await portRuns(nodes, 3)) as [
    number,
    number,
    number,
  ];
  return { respPortBase, httpPortBase, peerPortBase };
}

/**
 * Polls `probe` every 200 ms until it returns a value (errors count as "not
 * yet"); throws naming `what` and the last error after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * How long a test lets `kv up` stop after Ctrl-C before killing it: longer than
 * `kv up`'s own wait for its node processes, so a slow shutdown on a loaded
 * machine still ends in `kv up`'s exit code rather than the test's SIGKILL.
 */
export const UP_STOP_GRACE_MS = UP_STOP_TIMEOUT_MS + 15_000;
