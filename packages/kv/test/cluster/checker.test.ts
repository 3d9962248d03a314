/** The simulation checker must be able to fail: feed it broken outcomes by hand. */
import { describe, expect, it } from "vitest";
import {
  EMPTY_OBJECT,
  incrementCounter,
  type KeyObject,
  type Sibling,
} from "../../src/cluster/index.js";
import { check } from "./sim/checker.js";
import type { IssuedWrite } from "./sim/simulation.js";

function write(
  requestId: string,
  actor: string,
  counter: number,
  vv: Record<string, number>,
  acknowledged = true,
): IssuedWrite {
  return {
    requestId,
    kind: "put",
    key: "k",
    value: requestId,
    delta: 0,
    dot: { actor, counter },
    vv,
    acknowledged,
  };
}

function sibling(actor: string, counter: number, vv: Record<string, number> = {}): Sibling {
  return {
    dot: { actor, counter },
    vv,
    hlc: { wallMs: counter, logical: 0 },
    value: new Uint8Array([1]),
  };
}

const objectWith = (...siblings: Sibling[]): KeyObject => ({ ...EMPTY_OBJECT, siblings });

describe("simulation checker", () => {
  it("accepts a write superseded by a later write that saw it", () => {
    const first = write("w1", "a", 1, {});
    const second = write("w2", "b", 1, { a: 1 });
    const report = check([first, second], new Map([["k", objectWith(sibling("b", 1, { a: 1 }))]]));
    expect(report.lost).toEqual([]);
    expect(report.resurrected).toEqual([]);
    expect(report.superseded).toBe(1);
  });

  it("reports an acknowledged write that vanished without being superseded", () => {
    const first = write("w1", "a", 1, {});
    const concurrent = write("w2", "b", 1, {});
    const report = check([first, concurrent], new Map([["k", objectWith(sibling("b", 1))]]));
    expect(report.lost).toHaveLength(1);
    expect(report.lost[0]).toMatch(/w1/);
  });

  it("reports a superseded (deleted) version that came back", () => {
    const first = write("w1", "a", 1, {});
    const deletion: IssuedWrite = { ...write("d1", "b", 1, { a: 1 }), kind: "delete", value: null };
    const report = check([first, deletion], new Map([["k", objectWith(sibling("a", 1))]]));
    expect(report.resurrected).toHaveLength(1);
  });

  it("reports a counter that lost an acknowledged increment", () => {
    const incr = (requestId: string, delta: number): IssuedWrite => ({
      ...write(requestId, "a", 0, {}),
      key: "c",
      kind: "incr",
      delta,
    });
    const object: KeyObject = {
      ...EMPTY_OBJECT,
      counter: incrementCounter(EMPTY_OBJECT.counter, "a", 5),
    };
    expect(check([incr("i1", 5)], new Map([["c", object]])).counterErrors).toEqual([]);
    expect(
      check([incr("i1", 5), incr("i2", 3)], new Map([["c", object]])).counterErrors,
    ).toHaveLength(1);
  });
});
