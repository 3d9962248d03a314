/** Free ports and waiting until something listens on one. */
import type { ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { LOOPBACK, POLL_INTERVAL_MS, START_TIMEOUT_MS } from "./limits.js";

/**
 * A port nothing listens on right now: bind port 0, read the port the kernel
 * chose, close. Another process may take it before the caller binds it, which
 * is rare enough on a test machine to accept (the caller fails loudly).
 */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("the kernel gave no port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True when a TCP connection to host:port succeeds. */
export function canConnect(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface WaitForPortOptions {
  host?: string;
  /** Give up at once when this process exits (it will never listen). */
  process?: ChildProcess;
  /** Names the server in the error message. */
  what?: string;
}

/** Waits until something accepts connections on the port; throws after timeoutMs. */
export async function waitForPort(
  port: number,
  timeoutMs = START_TIMEOUT_MS,
  options: WaitForPortOptions = {},
): Promise<void> {
  const host = options.host ?? LOOPBACK;
  const what = options.what ?? "server";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const child = options.process;
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(
        `${what} exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`,
      );
    if (await canConnect(port, host)) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
