import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { LsmErrorCode, open } from "../src/index.js";
import { recordingLogger } from "./helpers/common.js";

const HOLDER = fileURLToPath(new URL("./helpers/lock-holder.ts", import.meta.url));

describe("LOCK file", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it("refuses a second open in the same process until the first closes", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    const first = await open(t.dir);
    await expect(open(t.dir)).rejects.toMatchObject({ code: LsmErrorCode.LOCKED });
    await first.close();
    const second = await open(t.dir);
    await second.close();
  });

  it("refuses a directory held by another live process, naming its pid", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    const child = spawn(process.execPath, ["--import", "tsx", HOLDER, t.dir], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve) => lines.once("line", () => resolve()));
    try {
      const error = await open(t.dir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: LsmErrorCode.LOCKED });
      expect((error as Error).message).toContain(String(child.pid));
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    // The holder died without releasing: its lock is stale and is taken over with a warning.
    const { warnings, logger } = recordingLogger();
    const db = await open(t.dir, { logger });
    await db.close();
    expect(warnings.some((w) => w.msg.includes("stale LOCK"))).toBe(true);
  });

  it("takes over a lock naming a pid that does not exist", async () => {
    const t = tempDir("lsm");
    cleanup = t.cleanup;
    await (await open(t.dir)).close();
    // pid_max on Linux is at most 2^22: this pid cannot be running.
    writeFileSync(join(t.dir, "LOCK"), "4194305\n");
    const { warnings, logger } = recordingLogger();
    const db = await open(t.dir, { logger });
    await db.close();
    expect(warnings).toHaveLength(1);
  });
});
