/** Output collection and stopping for child processes. */
import type { ChildProcess } from "node:child_process";
import { STOP_GRACE_MS } from "./limits.js";

/** A promise of the exit code (null when killed by a signal), made before anything can exit. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Sends `signal` and waits for the exit; SIGKILL follows after graceMs so a
 * wedged (or SIGSTOPped) process cannot hang a test's cleanup.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = STOP_GRACE_MS,
): Promise<number | null> {
  if (!isRunning(child)) return exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
