/**
 * Deterministic simulation of the cluster under faults. Seeds: SIM_SEED=<n>
 * replays one seed exactly; SIM_SEEDS=<count> runs more seeds (default 3).
 */
import { describe, expect, it } from "vitest";
import { check } from "./sim/checker.js";
import { DEFAULT_SIM, SIM_TUNING, type SimOptions, Simulation } from "./sim/simulation.js";

const seeds: number[] =
  process.env.SIM_SEED !== undefined
    ? [Number(process.env.SIM_SEED)]
    : Array.from({ length: Number(process.env.SIM_SEEDS ?? 3) }, (_, i) => 1_000 + i);

/**
 * SIM_STRESS=1: a harsher network (more loss, duplication and delay).
 * SIM_NODES=<n>: cluster size (default 5).
 */
const stress: Partial<SimOptions> = {
  ...(process.env.SIM_STRESS === "1"
    ? { dropProbability: 0.1, duplicateProbability: 0.05, delayMsMax: 150, workloadMs: 30_000 }
    : {}),
  ...(process.env.SIM_NODES !== undefined ? { nodes: Number(process.env.SIM_NODES) } : {}),
};

function runSeed(options: SimOptions) {
  const sim = new Simulation(options);
  sim.runUntil(options.workloadMs);
  sim.heal();
  // Let in-flight requests finish, then drive anti-entropy, handoff and reaping.
  sim.runUntil(sim.timeMs + 3_000);
  let converged = sim.runToQuiescence(240_000);
  // Past the tombstone grace the reaper removes tombstones; check again after it.
  const tombstonesBefore = sim.tombstones();
  sim.runUntil(sim.timeMs + 2 * SIM_TUNING.tombstoneGraceMs!);
  converged = converged && sim.runToQuiescence(60_000);
  const report = check(sim.allWrites(), sim.finalObjects());
  return { sim, converged, report, tombstonesBefore, counters: sim.counters() };
}

describe("cluster simulation (DVV siblings)", () => {
  for (const seed of seeds) {
    it(`seed ${seed}: no acknowledged write lost, no resurrection, replicas converge`, () => {
      const { sim, converged, report, tombstonesBefore, counters } = runSeed({
        ...DEFAULT_SIM,
        ...stress,
        seed,
        mode: "siblings",
        joinNode: seed % 3 === 1,
        leaveNode: seed % 3 === 2,
      });
      const replay = `replay with SIM_SEED=${seed}`;
      console.log(
        `seed ${seed}: ${JSON.stringify(sim.stats)} acknowledgedPuts=${report.acknowledgedPuts} ` +
          `superseded=${report.superseded} keysWithSiblings=${report.keysWithSiblings} ` +
          `tombstones ${tombstonesBefore} -> ${sim.tombstones()} counters ${JSON.stringify(counters)}\n${sim.log.join("\n")}`,
      );
      expect(
        converged,
        `${replay}: divergent partitions ${sim.divergentPartitions().join(",")} backlog ${JSON.stringify(sim.backlog())}`,
      ).toBe(true);
      expect(report.lost, replay).toEqual([]);
      expect(report.resurrected, replay).toEqual([]);
      expect(report.counterErrors, replay).toEqual([]);
      expect(sim.stats.writesAcknowledged).toBeGreaterThan(100);
      // The faults really exercised the repair paths.
      expect(
        counters.hintsStored + counters.readRepairs + counters.antiEntropyKeysRepaired,
      ).toBeGreaterThan(0);
      expect(sim.tombstones()).toBeLessThanOrEqual(tombstonesBefore);
      expect(report.acknowledgedPuts).toBeGreaterThan(50);
    });
  }

  it("replays a seed exactly", () => {
    const options: SimOptions = { ...DEFAULT_SIM, seed: 42, mode: "siblings", workloadMs: 5_000 };
    const a = runSeed(options);
    const b = runSeed(options);
    expect(b.sim.stats).toEqual(a.sim.stats);
    expect(b.sim.log).toEqual(a.sim.log);
    expect(b.sim.allWrites()).toEqual(a.sim.allWrites());
  });
});

describe("last-write-wins against siblings under partitions (measurement)", () => {
  it("logs how many acknowledged writes each mode loses", () => {
    const rows: string[] = [];
    let siblingsLost = 0;
    const totals = {
      siblings: { acknowledged: 0, lost: 0, concurrent: 0 },
      lww: { acknowledged: 0, lost: 0, concurrent: 0 },
    };
    const lwwSeeds = Array.from(
      { length: Number(process.env.SIM_LWW_SEEDS ?? 2) },
      (_, i) => 2_000 + i,
    );
    for (const seed of lwwSeeds) {
      for (const mode of ["siblings", "lww"] as const) {
        const { report, converged } = runSeed({ ...DEFAULT_SIM, seed, mode });
        expect(converged).toBe(true);
        if (mode === "siblings") siblingsLost += report.lost.length;
        totals[mode].acknowledged += report.acknowledgedPuts;
        totals[mode].lost += report.lost.length;
        // Puts no later write saw: the ones only siblings can keep.
        totals[mode].concurrent += report.acknowledgedPuts - report.superseded;
        const share =
          report.acknowledgedPuts === 0 ? 0 : report.lost.length / report.acknowledgedPuts;
        rows.push(
          `seed ${seed} ${mode.padEnd(8)} acknowledged puts ${report.acknowledgedPuts}, lost ${report.lost.length} (${(100 * share).toFixed(1)} %), superseded ${report.superseded}, keys with siblings ${report.keysWithSiblings}`,
        );
      }
    }
    for (const mode of ["siblings", "lww"] as const) {
      const { acknowledged, lost, concurrent } = totals[mode];
      const percent = (part: number, whole: number) =>
        ((100 * part) / Math.max(1, whole)).toFixed(1);
      rows.push(
        `total ${mode}: ${lost} of ${acknowledged} acknowledged puts lost (${percent(lost, acknowledged)} %); ` +
          `${lost} of ${concurrent} not superseded by a later write (${percent(lost, concurrent)} %)`,
      );
    }
    console.log(rows.join("\n"));
    expect(siblingsLost).toBe(0);
  });
});
