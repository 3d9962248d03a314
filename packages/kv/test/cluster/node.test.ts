/**
 * ClusterNode behaviour, scenario by scenario, on the simulated network with no
 * random faults (faults are injected by hand in each test).
 */
import { describe, expect, it } from "vitest";
import type { ClientReply, ClientRequest } from "../../src/cluster/index.js";
import { DEFAULT_SIM, SIM_TUNING, Simulation } from "./sim/simulation.js";

const text = (value: string) => new TextEncoder().encode(value);
const decode = (value: Uint8Array | null) =>
  value === null ? null : new TextDecoder().decode(value);

function quietCluster(nodes = 5): Simulation {
  const sim = new Simulation({
    ...DEFAULT_SIM,
    seed: 1,
    mode: "siblings",
    nodes,
    clients: 0,
    faults: false,
    dropProbability: 0,
    duplicateProbability: 0,
  });
  sim.runUntil(2_000);
  return sim;
}

let nextId = 0;
type RequestBody = ClientRequest extends infer R
  ? R extends unknown
    ? Omit<R, "requestId">
    : never
  : never;

function call(sim: Simulation, node: string, request: RequestBody, waitMs = 700): ClientReply {
  nextId += 1;
  const requestId = `t${nextId}`;
  sim.submit(node, { ...request, requestId } as ClientRequest);
  sim.runUntil(sim.timeMs + waitMs);
  const reply = sim.replies.get(requestId);
  if (reply === undefined) throw new Error(`no reply to ${requestId}`);
  return reply;
}

function put(
  sim: Simulation,
  node: string,
  key: string,
  value: string,
  context: string | null = null,
) {
  return call(sim, node, {
    kind: "put",
    key,
    value: text(value),
    context,
    supersedeVisible: false,
  });
}

function get(sim: Simulation, node: string, key: string) {
  const reply = call(sim, node, { kind: "get", key });
  if (reply.kind !== "read") throw new Error(`get failed: ${JSON.stringify(reply)}`);
  return reply;
}

describe("cluster node", () => {
  it("any node accepts any key: a non-replica forwards to a home replica and relays the reply", () => {
    const sim = quietCluster();
    const home = sim.nodes.get("n0")!.homeReplicas("alpha");
    const outsider = [...sim.nodes.keys()].find((id) => !home.includes(id))!;
    expect(put(sim, outsider, "alpha", "via-forward").kind).toBe("written");
    expect(decode(get(sim, outsider, "alpha").newest)).toBe("via-forward");
    expect(sim.nodes.get(outsider)!.store.get("alpha")).toBeUndefined();
    // With the home replicas unreachable, the forwarding node answers with a timeout.
    sim.partition([[outsider], [...sim.nodes.keys()].filter((id) => id !== outsider)]);
    const reply = call(sim, outsider, { kind: "get", key: "alpha" }, 2_000);
    expect(reply.kind === "error" && reply.code).toBe("SCALEOUT_ERR_KV_TIMEOUT");
  });

  it("localQuorum counts only the coordinator's data center; remote replicas get the write later", () => {
    const sim = quietCluster(6);
    const viewer = sim.nodes.get("n0")!;
    const dcOf = (id: string) => Number(id.slice(1)) % 2;
    // A key with two home replicas in dc0 and one in dc1.
    const key = Array.from({ length: 200 }, (_, i) => `local-${i}`).find(
      (k) => viewer.homeReplicas(k).filter((id) => dcOf(id) === 0).length === 2,
    )!;
    const home = viewer.homeReplicas(key);
    const local = home.filter((id) => dcOf(id) === 0);
    const remote = home.find((id) => dcOf(id) === 1)!;
    const ids = [...sim.nodes.keys()];
    sim.partition([ids.filter((id) => dcOf(id) === 0), ids.filter((id) => dcOf(id) === 1)]);
    const written = call(sim, local[0]!, {
      kind: "put",
      key,
      value: text("dc0"),
      context: null,
      supersedeVisible: false,
      consistency: "localQuorum",
    });
    expect(written.kind).toBe("written");
    const everywhere = call(sim, local[0]!, {
      kind: "put",
      key,
      value: text("all"),
      context: null,
      supersedeVisible: false,
      w: 3,
    });
    expect(everywhere.kind === "error" && everywhere.code).toBe("SCALEOUT_ERR_KV_TIMEOUT");
    expect(sim.nodes.get(remote)!.store.get(key)).toBeUndefined();
    sim.partition([]);
    sim.runUntil(sim.timeMs + 5_000);
    expect(sim.nodes.get(remote)!.store.get(key)?.siblings.length).toBeGreaterThan(0);
  });

  it("keeps concurrent blind writes as siblings; a write with the context resolves them", () => {
    const sim = quietCluster();
    const [a, b] = sim.nodes.get("n0")!.homeReplicas("alpha") as [string, string];
    put(sim, a, "alpha", "one");
    put(sim, b, "alpha", "two");
    const read = get(sim, a, "alpha");
    expect(read.siblings.map((s) => decode(s.value)).sort()).toEqual(["one", "two"]);
    expect(decode(read.newest)).toBe("two");
    put(sim, b, "alpha", "merged", read.context);
    expect(get(sim, a, "alpha").siblings.map((s) => decode(s.value))).toEqual(["merged"]);
  });

  it("Redis SET semantics: a write superseding what the coordinator sees leaves one value", () => {
    const sim = quietCluster();
    const [a] = sim.nodes.get("n0")!.homeReplicas("beta") as [string];
    put(sim, a, "beta", "one");
    call(sim, a, {
      kind: "put",
      key: "beta",
      value: text("two"),
      context: null,
      supersedeVisible: true,
    });
    expect(get(sim, a, "beta").siblings.map((s) => decode(s.value))).toEqual(["two"]);
  });

  it("times out naming how many replicas acknowledged", () => {
    const sim = quietCluster();
    const [a, b, c] = sim.nodes.get("n0")!.homeReplicas("gamma") as [string, string, string];
    // Partition the coordinator away just now: gossip has not noticed yet.
    sim.partition([[a], [...sim.nodes.keys()].filter((id) => id !== a)]);
    const reply = call(sim, a, {
      kind: "put",
      key: "gamma",
      value: text("x"),
      context: null,
      supersedeVisible: false,
    });
    expect(reply.kind).toBe("error");
    if (reply.kind === "error") {
      expect(reply.code).toBe("SCALEOUT_ERR_KV_TIMEOUT");
      expect(reply.message).toMatch(/1 of 3 replicas acknowledged, 2 required/);
    }
    void b;
    void c;
  });

  it("read repair brings a stale replica up to date", () => {
    const sim = quietCluster();
    const [a, b, c] = sim.nodes.get("n0")!.homeReplicas("delta") as [string, string, string];
    sim.partition([[a, b], [...sim.nodes.keys()].filter((id) => id !== a && id !== b)]);
    put(sim, a, "delta", "fresh");
    expect(sim.nodes.get(c)!.store.get("delta")).toBeUndefined();
    sim.partition([]);
    const read = get(sim, a, "delta");
    expect(decode(read.newest)).toBe("fresh");
    sim.runUntil(sim.timeMs + 200);
    expect(sim.nodes.get(c)!.store.get("delta")?.siblings).toHaveLength(1);
    expect(sim.nodes.get(a)!.counters.readRepairs).toBeGreaterThan(0);
  });

  it("sloppy quorum: a down owner's copy goes to a fallback as a hint, replayed when it returns", () => {
    const sim = quietCluster();
    const viewer = sim.nodes.get("n0")!;
    const [a, b, c] = viewer.homeReplicas("epsilon") as [string, string, string];
    sim.pause(c);
    sim.runUntil(sim.timeMs + 3_000);
    expect(sim.nodes.get(a)!.isUp(c, sim.timeMs)).toBe(false);
    const reply = put(sim, a, "epsilon", "while-down");
    expect(reply.kind === "written" && reply.acknowledged).toBeGreaterThanOrEqual(2);
    const backlog = sim.backlog();
    expect(backlog.hints).toBe(1);
    const holder = [...sim.nodes.values()].find(
      (n) => n.status(sim.timeMs).hintBacklog.length > 0,
    )!;
    expect(holder.status(sim.timeMs).hintBacklog).toEqual([{ owner: c, hints: 1 }]);
    expect([a, b, c]).not.toContain(holder.id);
    sim.resume(c);
    sim.runUntil(sim.timeMs + 3_000);
    expect(sim.backlog().hints).toBe(0);
    expect(decode(sim.nodes.get(c)!.store.get("epsilon")!.siblings[0]!.value)).toBe("while-down");
    expect(holder.counters.hintsReplayed).toBe(1);
  });

  it("hints older than the hint window are dropped; anti-entropy repairs the owner instead", () => {
    const sim = quietCluster();
    const viewer = sim.nodes.get("n0")!;
    const [a, , c] = viewer.homeReplicas("zeta") as [string, string, string];
    sim.pause(c);
    sim.runUntil(sim.timeMs + 3_000);
    const reply = put(sim, a, "zeta", "outlived");
    expect(reply.kind).toBe("written");
    expect(sim.backlog().hints).toBe(1);
    // The owner stays away longer than the hint window (SIM_TUNING: 8 s).
    sim.runUntil(sim.timeMs + SIM_TUNING.hintWindowMs! + 1_000);
    expect(sim.backlog().hints).toBe(0);
    expect(sim.counters().hintsExpired).toBe(1);
    expect(sim.nodes.get(c)!.store.get("zeta")).toBeUndefined();
    sim.resume(c);
    sim.runUntil(sim.timeMs + 5_000);
    expect(sim.counters().hintsReplayed).toBe(0);
    expect(sim.counters().antiEntropyKeysRepaired).toBeGreaterThan(0);
    expect(decode(sim.nodes.get(c)!.store.get("zeta")?.siblings[0]?.value ?? null)).toBe(
      "outlived",
    );
  });

  it("increments on both sides of a partition all count", () => {
    const sim = quietCluster();
    const [a, b, c] = sim.nodes.get("n0")!.homeReplicas("hits") as [string, string, string];
    const others = [...sim.nodes.keys()].filter((id) => ![a, b, c].includes(id));
    sim.partition([
      [a, others[0]!],
      [b, c, others[1]!],
    ]);
    sim.runUntil(sim.timeMs + 3_000);
    expect(call(sim, a, { kind: "incr", key: "hits", delta: 5 }).kind).toBe("written");
    expect(call(sim, b, { kind: "incr", key: "hits", delta: 7 }).kind).toBe("written");
    expect(call(sim, c, { kind: "incr", key: "hits", delta: -2 }).kind).toBe("written");
    sim.partition([]);
    sim.runUntil(sim.timeMs + 3_000);
    const read = get(sim, a, "hits");
    expect(read.count).toBe(10);
    expect(decode(read.newest)).toBe("10");
  });

  it("refuses a write past the sibling limit with a clear error", () => {
    const sim = new Simulation({
      ...DEFAULT_SIM,
      seed: 3,
      mode: "siblings",
      clients: 0,
      faults: false,
    });
    const node = sim.nodes.get("n0")!;
    const key = ["k1", "k2", "k3", "k4", "k5", "k6"].find((k) =>
      node.homeReplicas(k).includes("n0"),
    )!;
    let last: ClientReply | undefined;
    for (let i = 0; i <= 100; i += 1) last = put(sim, "n0", key, `v${i}`);
    expect(last?.kind).toBe("error");
    expect(last?.kind === "error" && last.code).toBe("SCALEOUT_ERR_KV_TOO_MANY_SIBLINGS");
  });

  it("reaps a tombstone only after every replica holds it and the grace period passed", () => {
    const sim = quietCluster();
    const [a, b, c] = sim.nodes.get("n0")!.homeReplicas("zeta") as [string, string, string];
    put(sim, a, "zeta", "doomed");
    const context = get(sim, a, "zeta").context;
    call(sim, a, { kind: "delete", key: "zeta", context, supersedeVisible: false });
    sim.runUntil(sim.timeMs + 1_000);
    for (const id of [a, b, c]) expect(sim.nodes.get(id)!.isDeletedHere("zeta")).toBe(true);
    expect(sim.nodes.get(a)!.store.get("zeta")).toBeDefined();
    // c is down through the grace period: nobody reaps.
    sim.pause(c);
    sim.runUntil(sim.timeMs + SIM_TUNING.tombstoneGraceMs! + 2_000);
    expect(sim.nodes.get(a)!.store.get("zeta")).toBeDefined();
    sim.resume(c);
    sim.runUntil(sim.timeMs + 3_000);
    for (const id of [a, b, c]) expect(sim.nodes.get(id)!.store.get("zeta")).toBeUndefined();
    expect(get(sim, a, "zeta").newest).toBeNull();
  });

  it("a leaving node streams its partitions away and ends with nothing", () => {
    const sim = quietCluster();
    const keys = Array.from({ length: 60 }, (_, i) => `moving-${i}`);
    for (const key of keys) {
      const [home] = sim.nodes.get("n0")!.homeReplicas(key) as [string];
      put(sim, home, key, key, null);
    }
    const before = sim.nodes.get("n2")!.store.size;
    expect(before).toBeGreaterThan(0);
    sim.leave("n2");
    sim.runUntil(sim.timeMs + 10_000);
    const leaver = sim.nodes.get("n2")!;
    expect(leaver.store.size).toBe(0);
    expect(leaver.membership.self().status).toBe("left");
    expect(leaver.counters.keysStreamed).toBeGreaterThanOrEqual(before);
    for (const key of keys) {
      const home = sim.nodes.get("n0")!.homeReplicas(key);
      expect(home).not.toContain("n2");
      expect(decode(get(sim, home[0]!, key).newest)).toBe(key);
      for (const id of home) expect(sim.nodes.get(id)!.store.get(key)).toBeDefined();
    }
  });

  it("replacing a dead node: after its removal every key is back to N copies on the new home replicas", () => {
    const sim = quietCluster();
    const keys = Array.from({ length: 80 }, (_, i) => `dead-${i}`);
    for (const key of keys) put(sim, sim.nodes.get("n0")!.homeReplicas(key)[0]!, key, key);
    sim.pause("n4");
    sim.runUntil(sim.timeMs + 3_000);
    // The operator removes n4 for good (scaleout kv remove / replace).
    sim.removeMember("n0", "n4");
    sim.runUntil(sim.timeMs + 15_000);
    for (const key of keys) {
      const home = sim.nodes.get("n1")!.homeReplicas(key);
      expect(home).not.toContain("n4");
      expect(home).toHaveLength(3);
      for (const id of home) {
        expect(
          decode(sim.nodes.get(id)!.store.get(key)?.siblings[0]?.value ?? null),
          `${key} on ${id}`,
        ).toBe(key);
      }
    }
  });

  it("a full hint store refuses to stand in (no ack), so the quorum does not count that copy", () => {
    const sim = new Simulation({
      ...DEFAULT_SIM,
      seed: 1,
      mode: "siblings",
      clients: 0,
      faults: false,
      dropProbability: 0,
      duplicateProbability: 0,
      tuning: { hintsMax: 0 },
    });
    sim.runUntil(2_000);
    const [a, , c] = sim.nodes.get("n0")!.homeReplicas("eta") as [string, string, string];
    sim.pause(c);
    sim.runUntil(sim.timeMs + 3_000);
    const reply = call(sim, a, {
      kind: "put",
      key: "eta",
      value: text("x"),
      context: null,
      supersedeVisible: false,
      w: 3,
    });
    expect(reply.kind === "error" && reply.message).toMatch(
      /2 of 3 replicas acknowledged, 3 required/,
    );
    expect(sim.backlog().hints).toBe(0);
  });
});
