/**
 * End to end: the real `scaleout` binary (built dist), spawned as a process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCliSync, tempDir } from "@scaleout/testkit";
import { afterAll, describe, expect, it } from "vitest";
import type { SimulationReport } from "../src/index.js";

const scratch = tempDir("ring-cli");
const workDir = scratch.dir;
afterAll(() => scratch.cleanup());

const scaleout = (...args: string[]) => runCliSync(args, { cwd: workDir });

describe("scaleout ring simulate", () => {
  it("prints the figures as JSON with --json, progress on stderr", () => {
    const run = scaleout(
      "ring",
      "simulate",
      "--nodes",
      "6",
      "--vnodes",
      "20,100",
      "--keys",
      "30000",
      "--json",
    );
    expect(run.stderr).toContain("ring simulate");
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as SimulationReport;
    expect(report.strategy).toBe("ring");
    expect(report.nodes).toBe(6);
    expect(report.keys).toBe(30_000);
    expect(report.rows.map((row) => row.vnodes)).toEqual([20, 100]);
    expect(report.idealMovedOnAdd).toBeCloseTo(1 / 7);
    for (const row of report.rows) {
      expect(row.meanKeysPerNode).toBe(5_000);
      expect(row.movedOnAdd).toBeGreaterThan(0);
      expect(row.movedOnAdd).toBeLessThan(0.35);
    }
  });

  it("prints a table and writes an SVG with --svg", () => {
    const run = scaleout(
      "ring",
      "simulate",
      "--nodes",
      "4",
      "--vnodes",
      "8",
      "--keys",
      "2000",
      "--strategy",
      "bounded",
      "--svg",
      "ring.svg",
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("strategy bounded (epsilon 0.25), 4 nodes, 2000 keys");
    expect(run.stdout).toMatch(/^\s+8\s+500\s/m);
    const svg = readFileSync(join(workDir, "ring.svg"), "utf8");
    expect(svg.match(/<line /g)).toHaveLength(32);
    for (let i = 0; i < 4; i++) expect(svg).toContain(`node-${i}: 8 points`);
  });

  it("runs jump and rendezvous", () => {
    for (const strategy of ["jump", "rendezvous"]) {
      const run = scaleout(
        "ring",
        "simulate",
        "--nodes",
        "5",
        "--keys",
        "5000",
        "--strategy",
        strategy,
        "--json",
      );
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as SimulationReport;
      expect(report.rows).toHaveLength(1);
      expect(report.rows[0]!.vnodes).toBeNull();
    }
  });

  it("rejects bad flags with one line and a non-zero exit", () => {
    const badList = scaleout("ring", "simulate", "--vnodes", "10,x");
    expect(badList.status).not.toBe(0);
    expect(badList.stderr).toContain("--vnodes");
    const badStrategy = scaleout("ring", "simulate", "--strategy", "modulo");
    expect(badStrategy.status).not.toBe(0);
    expect(badStrategy.stderr).toContain("modulo");
    const svgWithoutRing = scaleout(
      "ring",
      "simulate",
      "--strategy",
      "jump",
      "--svg",
      "x.svg",
      "--keys",
      "10",
    );
    expect(svgWithoutRing.status).toBe(2);
    expect(svgWithoutRing.stderr.trim().split("\n")).toEqual([
      "scaleout: --svg draws a ring; strategy jump has none",
    ]);
    const tooDense = scaleout(
      "ring",
      "simulate",
      "--nodes",
      "10000",
      "--vnodes",
      "65536",
      "--keys",
      "10",
    );
    expect(tooDense.status).toBe(2);
    expect(tooDense.stderr).toMatch(/^scaleout: .*more than \d+ points/m);
  });

  it("documents itself in --help", () => {
    const run = scaleout("ring", "simulate", "--help");
    expect(run.status).toBe(0);
    for (const flag of [
      "--nodes",
      "--vnodes",
      "--keys",
      "--strategy",
      "--epsilon",
      "--json",
      "--svg",
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });
});
