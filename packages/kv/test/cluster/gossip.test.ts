import { describe, expect, it } from "vitest";
import { Membership } from "../../src/cluster/gossip.js";
import { seededRandom } from "./sim/random.js";

/**
 * A lockstep gossip network: every 50 ms each live node ticks and its messages
 * are delivered unless the link is cut or either end is dead.
 */
class GossipNet {
  readonly nodes = new Map<string, Membership>();
  readonly dead = new Set<string>();
  readonly cut = new Set<string>();
  nowMs = 0;
  private readonly random = seededRandom(7);

  constructor(ids: string[]) {
    for (const id of ids) {
      this.nodes.set(
        id,
        new Membership(
          { id, address: id, dc: "dc1", rack: "r1", weight: 1, generation: 1 },
          ids,
          0,
        ),
      );
    }
  }

  private linkCut(a: string, b: string): boolean {
    return this.cut.has(`${a}-${b}`) || this.cut.has(`${b}-${a}`);
  }

  run(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) {
      this.nowMs += 50;
      for (const [id, node] of this.nodes) {
        if (this.dead.has(id)) continue;
        for (const out of node.tick(this.nowMs, this.random)) {
          if (this.dead.has(out.to) || this.linkCut(id, out.to)) continue;
          this.nodes.get(out.to)?.receive(id, out.message, this.nowMs);
        }
      }
    }
  }

  downAt(observer: string, id: string): boolean {
    return this.nodes.get(observer)!.isDown(id, this.nowMs);
  }
}

describe("gossip failure detection", () => {
  it("marks a dead node down everywhere, and up again when it returns", () => {
    const net = new GossipNet(["a", "b", "c", "d", "e"]);
    net.run(3_000);
    for (const id of ["a", "b", "c", "d", "e"]) expect(net.downAt("a", id)).toBe(false);
    net.dead.add("e");
    net.run(5_000);
    for (const observer of ["a", "b", "c", "d"]) expect(net.downAt(observer, "e")).toBe(true);
    net.dead.delete("e");
    net.run(2_000);
    for (const observer of ["a", "b", "c", "d"]) expect(net.downAt(observer, "e")).toBe(false);
  });

  it("does not mark a node down because one link to it is broken", () => {
    const net = new GossipNet(["a", "b", "c", "d", "e"]);
    net.run(2_000);
    net.cut.add("a-e");
    net.run(10_000);
    expect(net.downAt("a", "e")).toBe(false);
  });

  it("an isolated node alone cannot mark the others down (needs a second confirmation)", () => {
    const net = new GossipNet(["a", "b", "c", "d", "e"]);
    net.run(2_000);
    for (const other of ["b", "c", "d", "e"]) net.cut.add(`a-${other}`);
    net.run(10_000);
    const a = net.nodes.get("a")!;
    expect(a.suspects("b", net.nowMs)).toBe(true);
    expect(net.downAt("a", "b")).toBe(false);
    // The majority side sees a stale a and confirms among themselves.
    expect(net.downAt("b", "a")).toBe(true);
  });

  it("spreads a join through a seed and a leave to every member", () => {
    const net = new GossipNet(["a", "b", "c"]);
    net.run(1_000);
    const f = new Membership(
      { id: "f", address: "f", dc: "dc2", rack: "r1", weight: 2, generation: 1 },
      ["a"],
      net.nowMs,
    );
    net.nodes.set("f", f);
    net.run(3_000);
    for (const node of net.nodes.values())
      expect(node.ringMembers().map((m) => m.id)).toEqual(["a", "b", "c", "f"]);
    net.nodes.get("b")!.setSelfStatus("leaving");
    net.run(3_000);
    for (const node of net.nodes.values())
      expect(node.ringMembers().map((m) => m.id)).toEqual(["a", "c", "f"]);
  });

  it("a node restarted in the middle of leaving learns its own newer status back from the cluster", () => {
    const net = new GossipNet(["a", "b", "c"]);
    net.run(1_000);
    net.nodes.get("b")!.setSelfStatus("leaving");
    net.run(2_000);
    // kill -9 and restart: the new process starts as "normal" with the next generation.
    net.nodes.set(
      "b",
      new Membership(
        { id: "b", address: "b", dc: "dc1", rack: "r1", weight: 1, generation: 2 },
        ["a", "b", "c"],
        net.nowMs,
      ),
    );
    net.run(2_000);
    expect(net.nodes.get("b")!.self().status).toBe("leaving");
    for (const node of net.nodes.values())
      expect(node.ringMembers().map((m) => m.id)).toEqual(["a", "c"]);
    expect(net.downAt("a", "b")).toBe(false);
  });
});
