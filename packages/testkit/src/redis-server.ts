/**
 * A private redis-server for a test or a bench: its own temp directory, a
 * free port on 127.0.0.1, no persistence unless asked; ready when it answers
 * PING; stopped (by its own pid) and its directory removed after.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { exitOf, isRunning, stopChild } from "./child.js";
import { LOOPBACK, POLL_INTERVAL_MS, PROBE_TIMEOUT_MS, START_TIMEOUT_MS } from "./limits.js";
import { freePort } from "./ports.js";
import { tempDir } from "./temp-dir.js";

export type AppendFsync = "always" | "everysec" | "no";

export interface RedisServerOptions {
  /** `--appendonly yes` (an AOF in the temp dir). Default false. */
  appendonly?: boolean;
  /** `--appendfsync`; Redis's own default (everysec) when unset. */
  appendfsync?: AppendFsync;
  /** More arguments, appended last (so they win), e.g. `["--cluster-enabled", "yes"]`. */
  args?: readonly string[];
  /** Names the temp directory: `scaleout-<prefix>-XXXXXX`. Default "redis". */
  prefix?: string;
  /** How long it may take to answer PING. */
  startTimeoutMs?: number;
}

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** The data directory (AOF, cluster config); removed by stop(). */
  dir: string;
  process: ChildProcess;
  /** What the server printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (SIGKILL when `hard`), wait for the exit, remove the directory. Idempotent. */
  stop(hard?: boolean): Promise<void>;
}

/** True when a RESP PING on host:port gets +PONG back. */
export function answersPing(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      // A loading server answers -LOADING: not ready yet.
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

export function redisServerArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    LOOPBACK,
    "--save",
    "",
    "--appendonly",
    options.appendonly === true ? "yes" : "no",
    ...(options.appendfsync === undefined ? [] : ["--appendfsync", options.appendfsync]),
    "--dir",
    dir,
    ...(options.args ?? []),
  ];
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const { dir, cleanup } = tempDir(options.prefix ?? "redis");
  const port = await freePort();
  const child = spawn("redis-server", redisServerArgs(port, dir, options), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const exited = exitOf(child);
  let stopped: Promise<void> | undefined;
  const stop = (hard = false): Promise<void> => {
    stopped ??= (async () => {
      if (spawnError === undefined && isRunning(child))
        await stopChild(child, exited, hard ? "SIGKILL" : "SIGTERM");
      cleanup();
    })();
    return stopped;
  };

  const timeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure =
      spawnError !== undefined
        ? `could not run redis-server: ${spawnError.message}`
        : !isRunning(child)
          ? `redis-server exited (${child.exitCode ?? child.signalCode})`
          : Date.now() > deadline
            ? `redis-server did not answer PING on port ${port} within ${timeoutMs} ms`
            : undefined;
    if (failure !== undefined) {
      await stop(true);
      throw new Error(`${failure}${output === "" ? "" : `: ${output.trim()}`}`);
    }
    if (await answersPing(port)) break;
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  return {
    port,
    url: `redis://${LOOPBACK}:${port}`,
    dir,
    process: child,
    output: () => output,
    stop,
  };
}
