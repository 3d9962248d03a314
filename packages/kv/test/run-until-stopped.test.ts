/**
 * runUntilStopped (up.ts): a SIGTERM that arrives while the server is still
 * starting — its ports may already accept connections — closes it once it
 * has started, instead of being left to the signal's default action.
 */
import { describe, expect, it } from "vitest";
import { runUntilStopped, type StoppableServer } from "../src/up.js";

function fakeServer(): StoppableServer & { reasons: string[] } {
  let finish!: () => void;
  const closed = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const reasons: string[] = [];
  return {
    reasons,
    closed,
    close: async (reason = "close") => {
      reasons.push(reason);
      finish();
    },
  };
}

describe("runUntilStopped", () => {
  it("closes a server whose start was interrupted by SIGTERM, once it has started", async () => {
    const server = fakeServer();
    let started!: (server: StoppableServer) => void;
    const starting = new Promise<StoppableServer>((resolve) => {
      started = resolve;
    });
    const running = runUntilStopped(starting);
    // The signal arrives before start has finished (listeners are in already).
    expect(process.listenerCount("SIGTERM")).toBeGreaterThan(0);
    process.emit("SIGTERM", "SIGTERM");
    started(server);
    await running;
    expect(server.reasons).toEqual(["SIGTERM"]);
  });

  it("closes a running server on SIGINT and removes its handlers after", async () => {
    const before = process.listenerCount("SIGINT");
    const server = fakeServer();
    const running = runUntilStopped(server);
    await Promise.resolve();
    process.emit("SIGINT", "SIGINT");
    await running;
    expect(server.reasons).toEqual(["SIGINT"]);
    expect(process.listenerCount("SIGINT")).toBe(before);
  });
});
