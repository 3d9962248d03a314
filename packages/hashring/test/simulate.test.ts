import { describe, expect, it } from "vitest";
import {
  HashRing,
  HashRingErrorCode,
  nodeColor,
  renderRingSvg,
  type SimulationStrategy,
  simulate,
} from "../src/index.js";

describe("simulate", () => {
  it("reports spread and movement per vnodes setting for a ring", () => {
    const progress: string[] = [];
    const report = simulate({
      nodes: 8,
      vnodes: [10, 200],
      keys: 40_000,
      onProgress: (m) => progress.push(m),
    });
    expect(report.rows.map((row) => row.vnodes)).toEqual([10, 200]);
    expect(report.idealMovedOnAdd).toBeCloseTo(1 / 9);
    expect(report.idealMovedOnRemove).toBeCloseTo(1 / 8);
    const [coarse, fine] = report.rows as [(typeof report.rows)[0], (typeof report.rows)[0]];
    // More virtual nodes spread keys more evenly (a large, robust effect at 10 vs 200).
    expect(fine.stddevPercent).toBeLessThan(coarse.stddevPercent);
    for (const row of report.rows) {
      expect(row.meanKeysPerNode).toBe(5_000);
      expect(row.maxOverMean).toBeGreaterThanOrEqual(1);
      expect(row.minOverMean).toBeLessThanOrEqual(1);
    }
    // Consistent hashing moves about the ideal share, nothing like the ~7/8 of mod-n hashing.
    expect(fine.movedOnAdd).toBeGreaterThan(0.05);
    expect(fine.movedOnAdd).toBeLessThan(0.2);
    expect(fine.movedOnRemove).toBeGreaterThan(0.05);
    expect(fine.movedOnRemove).toBeLessThan(0.2);
    expect(progress.length).toBeGreaterThan(0);
  });

  it("keeps bounded-load max/mean within 1+ε", () => {
    const report = simulate({
      nodes: 10,
      vnodes: [10],
      keys: 30_000,
      strategy: "bounded",
      epsilon: 0.25,
    });
    const row = report.rows[0]!;
    expect(report.epsilon).toBe(0.25);
    expect(row.capacity).toBe(3_750);
    expect(row.maxOverMean).toBeLessThanOrEqual(1.25);
  });

  it.each(["jump", "rendezvous"] as SimulationStrategy[])(
    "gives one row without vnodes for %s",
    (strategy) => {
      const report = simulate({ nodes: 10, vnodes: [100], keys: 20_000, strategy });
      expect(report.rows).toHaveLength(1);
      const row = report.rows[0]!;
      expect(row.vnodes).toBeNull();
      expect(row.stddevPercent).toBeLessThan(5);
      expect(Math.abs(row.movedOnAdd - 1 / 11)).toBeLessThan(0.01);
      expect(Math.abs(row.movedOnRemove - 1 / 10)).toBeLessThan(0.01);
    },
  );

  it("rejects out-of-range settings", () => {
    expect(() => simulate({ nodes: 1, vnodes: [10], keys: 10 })).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_OPTION }),
    );
    expect(() => simulate({ nodes: 3, vnodes: [], keys: 10 })).toThrow(
      expect.objectContaining({ code: HashRingErrorCode.BAD_OPTION }),
    );
    expect(() =>
      simulate({ nodes: 3, vnodes: [10], keys: 10, strategy: "bounded", epsilon: 0 }),
    ).toThrow(expect.objectContaining({ code: HashRingErrorCode.BAD_OPTION }));
  });
});

describe("renderRingSvg", () => {
  it("draws one tick per virtual node and a legend line per node", () => {
    const ring = new HashRing([{ id: "a", zone: "dc1" }, "b", "<c&d>"], { vnodes: 7 });
    const svg = renderRingSvg(ring);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<line /g)).toHaveLength(21);
    expect(svg.match(/<rect x=/g)).toHaveLength(3);
    expect(svg).toContain("a [dc1]: 7 points");
    expect(svg).toContain("&#60;c&#38;d&#62;");
    expect(svg).not.toContain("<c&d>");
    expect(svg).toContain(`stroke="${nodeColor(0)}"`);
    // Shares in the legend add up to 100% (within rounding).
    const shares = [...svg.matchAll(/([\d.]+)% of keys/g)].map((m) => Number(m[1]));
    expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.3);
  });

  it("draws a full circle for a ring with a single point", () => {
    const svg = renderRingSvg(new HashRing(["solo"], { vnodes: 1 }));
    expect(svg).toContain("<circle");
    expect(svg).toContain("100.0% of keys");
  });
});
