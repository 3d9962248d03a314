import { describe, expect, it } from "vitest";
import { ClusterRouter, hashRingFactory } from "../../src/cluster/index.js";
import { DEFAULT_SIM, Simulation } from "./sim/simulation.js";

describe("cluster-aware routing", () => {
  it("routes every key to a home replica the nodes agree on, and follows membership changes", () => {
    const sim = new Simulation({
      ...DEFAULT_SIM,
      seed: 5,
      mode: "siblings",
      clients: 0,
      faults: false,
    });
    sim.runUntil(1_000);
    const node = sim.nodes.get("n1")!;
    const members = node.membership.ringMembers();
    const router = new ClusterRouter(hashRingFactory, members);
    for (let i = 0; i < 200; i += 1) {
      const key = `route-${i}`;
      expect(router.replicasFor(key)).toEqual(node.homeReplicas(key));
      const chosen = router.coordinatorFor(key, () => true)!;
      expect(node.homeReplicas(key)).toContain(chosen);
    }
    const down = router.replicasFor("route-0")[0]!;
    for (let i = 0; i < 10; i += 1)
      expect(router.coordinatorFor("route-0", (id) => id !== down)).not.toBe(down);
    expect(router.coordinatorFor("route-0", () => false)).toBeNull();
    router.update(members.filter((m) => m.id !== "n3"));
    for (let i = 0; i < 50; i += 1) expect(router.replicasFor(`route-${i}`)).not.toContain("n3");
  });
});
