import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BoundedLoadBalancer,
  boundedCapacity,
  HashRing,
  HashRingError,
  HashRingErrorCode,
} from "../src/index.js";

const epsilon = fc.constantFrom(0.05, 0.1, 0.25, 0.5, 1);

function maxLoad(balancer: BoundedLoadBalancer): number {
  return Math.max(...balancer.loads().values());
}

describe("BoundedLoadBalancer", () => {
  it("never puts more than ceil((1+ε)·average) keys on a node while keys arrive", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1, 5, 40),
        epsilon,
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
          minLength: 1,
          maxLength: 400,
        }),
        (nodes, vnodes, eps, keys) => {
          const ring = new HashRing(
            Array.from({ length: nodes }, (_, i) => `node-${i}`),
            { vnodes },
          );
          const balancer = new BoundedLoadBalancer(ring, { epsilon: eps });
          keys.forEach((key, i) => {
            const capacity = balancer.capacity;
            expect(capacity).toBe(boundedCapacity(i + 1, nodes, eps));
            const loadsBefore = balancer.loads();
            const ringOwner = ring.owner(key);
            const node = balancer.assign(key);
            // Consistency: the plain ring's choice wins whenever it has room.
            if (loadsBefore.get(ringOwner)! < capacity) expect(node).toBe(ringOwner);
            expect(maxLoad(balancer)).toBeLessThanOrEqual(capacity);
          });
          expect(balancer.keyCount).toBe(keys.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("matches a model under assign / release / rebalance (model-based)", () => {
    type Model = Map<string, string>;
    class Assign implements fc.Command<Model, BoundedLoadBalancer> {
      constructor(readonly key: string) {}
      check() {
        return true;
      }
      run(model: Model, real: BoundedLoadBalancer) {
        const existing = model.get(this.key);
        const node = real.assign(this.key);
        if (existing !== undefined) expect(node).toBe(existing);
        model.set(this.key, node);
        checkAgainst(model, real);
      }
      toString() {
        return `assign(${JSON.stringify(this.key)})`;
      }
    }
    class Release implements fc.Command<Model, BoundedLoadBalancer> {
      constructor(readonly key: string) {}
      check() {
        return true;
      }
      run(model: Model, real: BoundedLoadBalancer) {
        expect(real.release(this.key)).toBe(model.delete(this.key));
        checkAgainst(model, real);
      }
      toString() {
        return `release(${JSON.stringify(this.key)})`;
      }
    }
    class Rebalance implements fc.Command<Model, BoundedLoadBalancer> {
      check() {
        return true;
      }
      run(model: Model, real: BoundedLoadBalancer) {
        const before = new Map(model);
        const moved = real.rebalance();
        let changed = 0;
        for (const key of before.keys()) {
          const node = real.ownerOf(key)!;
          if (node !== before.get(key)) changed++;
          model.set(key, node);
        }
        expect(moved).toBe(changed);
        checkAgainst(model, real);
        // After a rebalance the bound holds for the current key count.
        if (model.size > 0) {
          expect(maxLoad(real)).toBeLessThanOrEqual(boundedCapacity(model.size, 4, 0.25));
        }
      }
      toString() {
        return "rebalance()";
      }
    }
    function checkAgainst(model: Model, real: BoundedLoadBalancer) {
      expect(real.keyCount).toBe(model.size);
      const counts = new Map<string, number>();
      for (const [key, node] of model) {
        expect(real.ownerOf(key)).toBe(node);
        counts.set(node, (counts.get(node) ?? 0) + 1);
      }
      for (const [node, load] of real.loads()) expect(load).toBe(counts.get(node) ?? 0);
    }
    const keyArb = fc.constantFrom(...Array.from({ length: 30 }, (_, i) => `k${i}`));
    const commands = fc.commands(
      [
        keyArb.map((k) => new Assign(k)),
        keyArb.map((k) => new Release(k)),
        fc.constant(new Rebalance()),
      ],
      { maxCommands: 80 },
    );
    fc.assert(
      fc.property(commands, (cmds) => {
        const ring = new HashRing(["a", "b", "c", "d"], { vnodes: 20 });
        fc.modelRun(
          () => ({ model: new Map(), real: new BoundedLoadBalancer(ring, { epsilon: 0.25 }) }),
          cmds,
        );
      }),
      { numRuns: 60 },
    );
  });

  it("keeps max/mean within 1+ε on many keys", () => {
    const ring = new HashRing(
      Array.from({ length: 10 }, (_, i) => `node-${i}`),
      { vnodes: 10 },
    );
    const balancer = new BoundedLoadBalancer(ring, { epsilon: 0.25 });
    for (let i = 0; i < 20_000; i++) balancer.assign(`key:${i}`);
    expect(maxLoad(balancer) / 2_000).toBeLessThanOrEqual(1.25);
  });

  it("rejects bad options and empty rings", () => {
    const ring = new HashRing(["a"]);
    for (const eps of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new BoundedLoadBalancer(ring, { epsilon: eps })).toThrow(
        expect.objectContaining({ code: HashRingErrorCode.BAD_OPTION }),
      );
    }
    expect(() => new BoundedLoadBalancer(new HashRing())).toThrow(HashRingError);
    expect(() => new BoundedLoadBalancer(ring).assign("")).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_KEY }),
    );
  });
});
