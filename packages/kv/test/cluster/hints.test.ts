import { describe, expect, it } from "vitest";
import {
  EMPTY_OBJECT,
  type KeyObject,
  MemoryHintStore,
  mergeObjects,
  objectDigest,
} from "../../src/cluster/index.js";

const withValue = (actor: string, counter: number): KeyObject => ({
  ...EMPTY_OBJECT,
  siblings: [
    {
      dot: { actor, counter },
      vv: {},
      hlc: { wallMs: counter, logical: 0 },
      value: new Uint8Array([counter]),
    },
  ],
});

describe("memory hint store", () => {
  it("coalesces hints per (owner, key), removes only a delivered version, expires by age", () => {
    const hints = new MemoryHintStore();
    hints.add("n3", "k", withValue("a", 1), 100, "siblings");
    hints.add("n3", "k", withValue("b", 1), 200, "siblings");
    hints.add("n4", "j", withValue("a", 2), 300, "siblings");
    expect(hints.size()).toBe(2);
    expect(hints.owners()).toEqual(["n3", "n4"]);
    const merged = mergeObjects(withValue("a", 1), withValue("b", 1), "siblings");
    expect(hints.get("n3", "k")?.object.siblings).toHaveLength(2);
    expect(hints.get("n3", "k")?.storedAtMs).toBe(100);
    // A replay of the older version was acknowledged: the newer hint stays.
    expect(hints.removeIfDigest("n3", "k", objectDigest(withValue("a", 1)))).toBe(false);
    expect(hints.removeIfDigest("n3", "k", objectDigest(merged))).toBe(true);
    expect(hints.expire(301)).toBe(1);
    expect(hints.size()).toBe(0);
  });
});
