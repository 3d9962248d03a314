/**
 * Test helpers: free ports, real redis-server / memcached processes started
 * from a temp directory, our node as a real process (the CLI), and a raw
 * RESP client that returns replies exactly as parsed from the wire.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");
export const CLI = join(REPO_ROOT, "packages/cli/dist/main.js");

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scaleout-kv-${prefix}-`));
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        done(true);
      });
      socket.once("error", () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Process {
  port: number;
  child: ChildProcess;
  dir: string;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

function track(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { output: () => output, exited };
}

function stopper(child: ChildProcess, exited: Promise<number | null>, dir: string | undefined) {
  return async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await exited;
    clearTimeout(timer);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    return code;
  };
}

export async function startRedis(): Promise<Process> {
  const port = await freePort();
  const dir = tempDir("redis");
  const child = spawn(
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
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const { output, exited } = track(child);
  await waitForPort(port, child, "redis-server");
  return { port, child, dir, output, stop: stopper(child, exited, dir) };
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
  await waitForPort(port, child, "memcached");
  return { port, child, dir: "", output, stop: stopper(child, exited, undefined) };
}

export interface NodeProcess extends Process {
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
  const [port, memcachedPort, httpPort] = [await freePort(), await freePort(), await freePort()];
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
  const { output, exited } = track(child);
  await waitForPort(port, child, "kv node");
  await waitForPort(httpPort, child, "kv node http");
  return {
    port,
    memcachedPort,
    httpPort,
    child,
    dir,
    output,
    stop: stopper(child, exited, options.keepDir === true ? undefined : dir),
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

export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg, "latin1") : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

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
  async read(timeoutMs = 5000): Promise<Wire> {
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
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.changed(left);
    }
    return true;
  }

  /** Collects bytes until `predicate` holds on them or the timeout passes. */
  async readUntil(predicate: (data: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
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
