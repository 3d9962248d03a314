import { DEFAULT_HUMAN_OPTIONS, formulas, Human } from "@scaleout/estimate";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const human = new Human(DEFAULT_HUMAN_OPTIONS);

describe("each formula: value, substituted numbers and human rendering", () => {
  it("DAU = MAU × daily fraction", () => {
    const line = formulas.dailyActiveUsers(human, 300e6, 0.5);
    expect(line).toMatchObject({ key: "dau", value: 150e6, unit: "users" });
    expect(line.substituted).toBe("300M × 50%");
    expect(line.human).toBe("150M users");
  });

  it("given DAU is stated as given", () => {
    const line = formulas.givenDailyActiveUsers(human, 2e6);
    expect(line).toMatchObject({ key: "dau", formula: "given", value: 2e6, human: "2M users" });
  });

  it("writes per day = DAU × actions per user", () => {
    const line = formulas.writesPerDay(human, 150e6, 2, "tweets");
    expect(line).toMatchObject({ value: 300e6, unit: "requests/day", human: "300M/day" });
    expect(line.label).toBe("Tweets per day");
    expect(line.formula).toBe("DAU × tweets per user per day");
  });

  it("average QPS = per day / 86,400 s", () => {
    const line = formulas.averageQps(human, "write_qps", "Write QPS", 300e6, "tweets");
    expect(line.value).toBeCloseTo(3472.2222, 3);
    expect(line.substituted).toBe("300M / 86,400 s");
    expect(line.human).toBe("3.47k/s");
  });

  it("peak QPS = QPS × peak factor", () => {
    const line = formulas.peakQps(human, "peak", "Peak", 3472.2222, 2);
    expect(line.value).toBeCloseTo(6944.4444, 3);
    expect(line.human).toBe("6.94k/s");
  });

  it("read QPS = write QPS × read:write ratio", () => {
    const line = formulas.readQps(human, 100, 30);
    expect(line).toMatchObject({ key: "read_qps", value: 3000, human: "3k/s" });
    expect(line.substituted).toBe("100/s × 30");
  });

  it("object storage per day = writes × share × size", () => {
    const line = formulas.objectStoragePerDay(human, "media", 300e6, 0.1, 1e6);
    expect(line).toMatchObject({ key: "storage_per_day.media", value: 30e12, unit: "bytes/day" });
    expect(line.substituted).toBe("300M × 10% × 1 MB");
    expect(line.human).toBe("30 TB/day");
  });

  it("sums lines of one unit and refuses mixed units", () => {
    const a = formulas.objectStoragePerDay(human, "a", 10, 1, 100);
    const b = formulas.objectStoragePerDay(human, "b", 10, 0.5, 1000);
    const total = formulas.sumOf(human, "storage_per_day", "Total", [a, b]);
    expect(total.value).toBe(6000);
    expect(total.formula).toBe("a + b");
    expect(total.substituted).toBe("1 KB + 5 KB");
    const qps = formulas.readQps(human, 1, 1);
    expect(() => formulas.sumOf(human, "x", "x", [a, qps])).toThrow(/mixed units/);
  });

  it("storage per year = per day × 365", () => {
    const line = formulas.storagePerYear(human, 30.1e12);
    expect(line.value).toBe(30.1e12 * 365);
    expect(line.human).toBe("11 PB/year");
  });

  it("storage over retention writes whole years the chapter's way", () => {
    const years = formulas.storageOverRetention(human, "r", "R", 30e12, 5 * 365 * 86_400);
    expect(years.value).toBe(54.75e15);
    expect(years.substituted).toBe("30 TB/day × 365 days × 5 years");
    expect(years.human).toBe("54.8 PB");
    const days = formulas.storageOverRetention(human, "r", "R", 1e9, 30 * 86_400);
    expect(days.value).toBe(30e9);
    expect(days.substituted).toBe("1 GB/day × 30 days");
  });

  it("replicated storage = logical × replication factor", () => {
    expect(formulas.replicatedStorage(human, 1e12, 3).value).toBe(3e12);
  });

  it("ingress = per day / 86,400 s, shown in bytes and bits per second", () => {
    const line = formulas.ingressBandwidth(human, 86_400e6);
    expect(line.value).toBe(1e6);
    expect(line.human).toBe("1 MB/s (8 Mbit/s)");
  });

  it("egress = ingress × read:write ratio; peak bandwidth = average × peak factor", () => {
    expect(formulas.egressBandwidth(human, 1e6, 100).value).toBe(1e8);
    expect(formulas.peakBandwidth(human, "p", "P", 1e6, 3).value).toBe(3e6);
  });

  it("cache = per day × window days × hot fraction", () => {
    const line = formulas.cacheMemory(human, 10e9, 2 * 86_400, 0.2);
    expect(line.value).toBe(4e9);
    expect(line.substituted).toBe("10 GB/day × 2 days × 20%");
  });

  it("servers = ceiling of peak total QPS over capacity, immune to float noise", () => {
    const line = formulas.serversNeeded(human, 6944.44, 69_444.4, 10_000);
    expect(line.value).toBe(8);
    expect(line.substituted).toBe("⌈(6.94k/s + 69.4k/s) / 10k/s⌉");
    expect(formulas.serversNeeded(human, 7000, undefined, 1000).value).toBe(7);
    // 0.1 + 0.2 = 0.30000000000000004 must not need 4 servers of capacity 0.1.
    expect(formulas.serversNeeded(human, 0.1, 0.2, 0.1).value).toBe(3);
    expect(formulas.serversNeeded(human, 1, undefined, 1000).human).toBe("1 server");
  });

  it("servers always cover the peak and never by a whole extra server", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1e9, noNaN: true }),
        fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        (peak, capacity) => {
          const servers = formulas.serversNeeded(human, peak, undefined, capacity).value;
          const exact = peak / capacity;
          return servers >= exact * (1 - 1e-11) && servers - exact < 1;
        },
      ),
      { numRuns: 300 },
    );
  });
});
