/**
 * A short chaos run (the CI-sized `scaleout kv chaos`): 5 node processes,
 * concurrent clients, kill -9 / SIGSTOP / partitions, heal, convergence. In
 * sibling mode no acknowledged write may be lost. Longer runs: the CLI.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_CHAOS_OPTIONS, runChaos } from "../../src/cluster-shell/index.js";
import { CLI, clusterPortBases } from "../helpers.js";

describe("chaos (real processes, faults)", () => {
  it("sibling mode loses no acknowledged write and converges", async () => {
    const report = await runChaos({
      ...DEFAULT_CHAOS_OPTIONS,
      cliEntry: CLI,
      clients: 4,
      durationMs: 12_000,
      convergeTimeoutMs: 40_000,
      seed: Number(process.env.CHAOS_SEED ?? 7),
      portBases: await clusterPortBases(DEFAULT_CHAOS_OPTIONS.nodes),
    });
    expect(report.faults.length).toBeGreaterThan(0);
    expect(report.writesAcknowledged).toBeGreaterThan(0);
    expect(report.converged).toBe(true);
    expect(report.lost).toBe(0);
  }, 90_000);
});
