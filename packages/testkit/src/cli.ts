/**
 * The built CLI (`node packages/cli/dist/main.js …`) as a child process, as
 * the end-to-end tests and benches run it: one-shot runs, and long-running
 * servers whose readiness is a line on stdout.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { exitOf, stopChild } from "./child.js";
import { RUN_MAX_BUFFER_BYTES, RUN_TIMEOUT_MS, START_TIMEOUT_MS } from "./limits.js";

/** packages/cli/dist/main.js, resolved from this package's own location in the repository. */
export const CLI_PATH = fileURLToPath(new URL("../../cli/dist/main.js", import.meta.url));

const execFileAsync = promisify(execFile);

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: build first (npx tsc -b)`);
}

export interface CliOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunCliOptions extends CliOptions {
  maxBufferBytes?: number;
}

/** Runs the CLI to completion; rejects (with stdout/stderr on the error) on a non-zero exit. */
export async function runCli(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  assertBuilt();
  return execFileAsync(process.execPath, [CLI_PATH, ...args], {
    maxBuffer: options.maxBufferBytes ?? RUN_MAX_BUFFER_BYTES,
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
}

export interface RunCliSyncOptions extends RunCliOptions {
  /** The run is killed after this long, and runCliSync throws. */
  timeoutMs?: number;
}

/** How a finished CLI run went: its exit status (null when killed by a signal) and what it printed. */
export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI to completion, synchronously, and returns how it went whether
 * it succeeded or not: for tests that check exit codes and error lines.
 */
export function runCliSync(args: readonly string[], options: RunCliSyncOptions = {}): CliResult {
  assertBuilt();
  const run = spawnSync(process.execPath, [CLI_PATH, ...args], {
    encoding: "utf8",
    maxBuffer: options.maxBufferBytes ?? RUN_MAX_BUFFER_BYTES,
    timeout: options.timeoutMs ?? RUN_TIMEOUT_MS,
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  // A timeout or a failed spawn is an error of the test, not an exit status to check.
  if (run.error !== undefined)
    throw new Error(
      `scaleout ${args.join(" ")}: ${run.error.message}\nstdout: ${run.stdout?.trim()}\nstderr: ${run.stderr?.trim()}`,
    );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Picks a value out of one stdout line, or undefined to keep waiting. */
export type LineMatcher<T> = (line: string) => T | undefined;

export interface CliProcess {
  process: ChildProcess;
  /** Exit code, null when killed by a signal. */
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /**
   * The first stdout line (seen so far or to come) that `match` accepts: a
   * RegExp gives its match, a function whatever it returns. Rejects when the
   * process exits first or after timeoutMs, with what it printed.
   */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  waitForLine<T>(match: LineMatcher<T>, timeoutMs?: number): Promise<T>;
  /** Sends `signal` (SIGKILL after `graceMs`, default STOP_GRACE_MS) and returns the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Starts the CLI with stdout and stderr collected. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const exited = exitOf(child);
  let stdout = "";
  let stderr = "";
  const lines: string[] = [];
  let partial = "";
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    notify();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let hasExited = false;
  // "close" comes after the last output, so a final line without a newline is seen too.
  child.once("close", () => {
    if (partial !== "") lines.push(partial);
    partial = "";
    hasExited = true;
    notify();
  });

  function waitForLine<T>(
    match: RegExp | LineMatcher<T>,
    timeoutMs = START_TIMEOUT_MS,
  ): Promise<T | RegExpExecArray> {
    const accept = (line: string): T | RegExpExecArray | undefined =>
      typeof match === "function" ? match(line) : (match.exec(line) ?? undefined);
    return new Promise((resolve, reject) => {
      let checked = 0;
      const finish = (settle: () => void) => {
        listeners.delete(check);
        clearTimeout(timer);
        settle();
      };
      const printed = () => `\nstdout: ${stdout.trim()}\nstderr: ${stderr.trim()}`;
      function check(): void {
        try {
          for (; checked < lines.length; checked++) {
            const found = accept(lines[checked]!);
            if (found !== undefined) {
              finish(() => resolve(found));
              return;
            }
          }
        } catch (error) {
          finish(() => reject(error));
          return;
        }
        if (hasExited)
          finish(() =>
            reject(
              new Error(
                `scaleout ${args.join(" ")} exited (${child.exitCode ?? child.signalCode})${printed()}`,
              ),
            ),
          );
      }
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `scaleout ${args.join(" ")}: no matching line within ${timeoutMs} ms${printed()}`,
              ),
            ),
          ),
        timeoutMs,
      );
      listeners.add(check);
      check();
    });
  }

  return {
    process: child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLine: waitForLine as CliProcess["waitForLine"],
    stop: (signal: NodeJS.Signals = "SIGTERM", graceMs?: number) =>
      stopChild(child, exited, signal, graceMs),
  };
}
