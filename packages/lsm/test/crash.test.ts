/**
 * Crash tests with a real writer process killed by SIGKILL at random moments
 * (during group commits, memtable switches, flushes, compactions and manifest
 * replacements). After each kill the database is reopened in this process and
 * checked:
 * - every write the child saw acknowledged is present with its value. Under
 *   "always" this holds even for a machine crash; under "never" and
 *   "everysec" the record is in the OS page cache before the acknowledgement,
 *   so a process crash loses nothing either (their window is an OS crash or
 *   power loss, which a test cannot produce);
 * - every key present is one the child wrote, with the right value (no garbage
 *   from a torn write);
 * - batches are atomic: both keys of a batch are present, or neither.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tempDir } from "@scaleout/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { open, type SyncPolicy } from "../src/index.js";
import { valueFor } from "./helpers/crash-values.js";

const WRITER = fileURLToPath(new URL("./helpers/crash-writer.ts", import.meta.url));

interface RoundResult {
  acked: Set<string>;
  killDelayMs: number;
}

async function runAndKill(
  dir: string,
  policy: SyncPolicy,
  round: number,
  killDelayMs: number,
): Promise<RoundResult> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", WRITER, dir, policy, String(round)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const acked = new Set<string>();
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | null = null;
  lines.on("line", (line) => {
    // The kill delay counts from the first acknowledgement, not from "ready": on a loaded
    // machine the first writes may take longer than the shortest delay, and the kill must
    // land while writes are flowing.
    if (line.startsWith("ack ")) {
      acked.add(line.slice(4));
      timer ??= setTimeout(() => child.kill("SIGKILL"), killDelayMs);
    }
  });
  await exited;
  if (timer !== null) clearTimeout(timer);
  // Lines already written to the pipe before the kill still arrive: drain them.
  await new Promise<void>((resolve) => {
    if (child.stdout!.readableEnded) resolve();
    else child.stdout!.on("end", () => resolve());
  });
  return { acked, killDelayMs };
}

async function verify(dir: string, results: RoundResult[]): Promise<{ present: number }> {
  const db = await open(dir, { memtableSizeBytes: 64 * 1024 });
  try {
    for (const { acked, killDelayMs } of results) {
      for (const key of acked) {
        const value = await db.get(Buffer.from(key));
        expect(value, `acknowledged ${key} lost (kill after ${killDelayMs} ms)`).toBeDefined();
        expect(Buffer.from(value!).equals(valueFor(key)), `value of ${key}`).toBe(true);
      }
    }
    let present = 0;
    const keys = new Set<string>();
    for await (const [key, value] of db.iterator()) {
      const text = Buffer.from(key).toString("utf8");
      expect(text).toMatch(/^r\d+-w\d+-\d{6}(-b)?$/);
      expect(Buffer.from(value).equals(valueFor(text)), `value of ${text}`).toBe(true);
      keys.add(text);
      present++;
    }
    for (const key of keys) {
      const n = Number(key.split("-")[2]);
      if (n % 5 !== 4) continue;
      // Batch atomicity: the "-b" partner exists exactly when the first key does.
      expect(
        keys.has(key.endsWith("-b") ? key.slice(0, -2) : `${key}-b`),
        `batch half of ${key}`,
      ).toBe(true);
    }
    return { present };
  } finally {
    await db.close();
  }
}

describe("crash recovery with SIGKILL", () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  for (const policy of ["always", "everysec", "never"] as const) {
    it(`keeps every acknowledged write (${policy})`, async () => {
      const { dir, cleanup } = tempDir("lsm");
      cleanups.push(cleanup);
      const results: RoundResult[] = [];
      const rounds = policy === "always" ? 4 : 2;
      for (let round = 0; round < rounds; round++) {
        const killDelayMs = 150 + Math.floor(Math.random() * 900);
        const result = await runAndKill(dir, policy, round, killDelayMs);
        results.push(result);
        const { present } = await verify(dir, results);
        expect(present).toBeGreaterThanOrEqual(result.acked.size);
      }
      // The kills landed while writes were flowing.
      expect(results.some((r) => r.acked.size > 0)).toBe(true);
    });
  }
});
