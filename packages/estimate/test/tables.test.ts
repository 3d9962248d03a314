import {
  availabilityTable,
  downtimeSeconds,
  EstimateErrorCode,
  formatLatency,
  latencyTable,
  powersOfTwoTable,
  referenceTable,
  renderTableText,
} from "@scaleout/estimate";
import { describe, expect, it } from "vitest";

describe("reference tables", () => {
  it("nines match the chapter's table (365.25-day year)", () => {
    const rows = new Map(availabilityTable().rows.map((row) => [row.availability, row]));
    const chapter: [string, string, string][] = [
      ["99%", "14.4 min", "3.65 days"],
      ["99.9%", "1.44 min", "8.77 hours"],
      ["99.99%", "8.64 s", "52.6 min"],
      ["99.999%", "864 ms", "5.26 min"],
      ["99.9999%", "86.4 ms", "31.6 s"],
    ];
    for (const [availability, perDay, perYear] of chapter) {
      expect(rows.get(availability)).toMatchObject({ perDay, perYear });
    }
    expect(downtimeSeconds(1e-6).perYear).toBeCloseTo(31.5576, 4);
    expect(downtimeSeconds(1e-3).perMonth).toBeCloseTo(2592, 6);
  });

  it("powers of two are exact, including 2^64", () => {
    const rows = new Map(powersOfTwoTable().rows.map((row) => [row.power, row]));
    expect(rows.get("2^10")).toMatchObject({ exact: "1,024", bytes: "1 KiB", chapterName: "1 KB" });
    expect(rows.get("2^32")).toMatchObject({ exact: "4,294,967,296", approximate: "4.3 billion" });
    expect(rows.get("2^64")?.exact).toBe("18,446,744,073,709,551,616");
    expect(rows.get("2^50")?.binaryOverDecimalPercent).toBe(12.6);
  });

  it("latency numbers carry their year and source", () => {
    const table = latencyTable();
    expect(table.title).toContain("2010");
    expect(table.source).toContain("Jeff Dean");
    const disk = table.rows.find((row) => row.operation === "Read 1 MB sequentially from disk");
    expect(disk).toMatchObject({ latencyNs: 30_000_000, latency: "30 ms" });
    expect(formatLatency(0.5)).toBe("0.5 ns");
    expect(formatLatency(250_000)).toBe("250 µs");
  });

  it("renders aligned text and refuses unknown table names", () => {
    const text = renderTableText(referenceTable("nines"));
    expect(text).toMatch(/^Availability and downtime\n/);
    expect(text).toContain("99.9%             3  1.44 min");
    expect(() => referenceTable("primes")).toThrow(
      expect.objectContaining({ code: EstimateErrorCode.UNKNOWN_TABLE, field: "table" }),
    );
  });
});
