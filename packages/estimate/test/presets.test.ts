import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  estimate,
  findPreset,
  parseAssumptions,
  parseAssumptionsYaml,
  renderEstimateText,
} from "@scaleout/estimate";
import { describe, expect, it } from "vitest";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");

function twitter() {
  const preset = findPreset("twitter");
  return estimate(parseAssumptions(preset.raw), { reference: preset.reference });
}

function value(key: string): number {
  const line = twitter().lines.find((candidate) => candidate.key === key);
  if (line === undefined) throw new Error(`no line ${key}`);
  return line.value;
}

describe("the twitter preset reproduces the chapter's worked example", () => {
  it("DAU = 300M × 50% = 150M", () => {
    expect(value("dau")).toBe(150e6);
  });

  it("QPS ≈ 3,500 and peak ≈ 7,000 (exactly 3,472.2 and 6,944.4)", () => {
    expect(value("write_qps")).toBeCloseTo(300e6 / 86_400, 9);
    expect(Math.round(value("write_qps") / 100) * 100).toBe(3500);
    expect(value("peak_write_qps")).toBeCloseTo(600e6 / 86_400, 9);
    expect(Math.round(value("peak_write_qps") / 1000) * 1000).toBe(7000);
  });

  it("media: 30 TB a day, about 55 PB over 5 years", () => {
    expect(value("storage_per_day.media")).toBe(30e12);
    expect(value("storage_over_retention.media")).toBe(54.75e15);
    expect(Math.round(value("storage_over_retention.media") / 1e15)).toBe(55);
  });

  it("text: 37.8 × 10^9 bytes a day (the chapter's '35 GB' is 35.2 GiB)", () => {
    expect(value("storage_per_day.text")).toBeCloseTo(37.8e9, 0);
    expect(value("storage_per_day.text") / 2 ** 30).toBeCloseTo(35.2, 1);
    expect(value("storage_over_retention.text") / 2 ** 40).toBeCloseTo(62.7, 1);
  });

  it("compares each quoted figure with the exact one and explains the gap", () => {
    const byKey = new Map(twitter().comparisons.map((c) => [c.key, c]));
    expect(byKey.get("write_qps")?.differencePercent).toBeCloseTo(0.8, 1);
    expect(byKey.get("storage_per_day.media")?.differencePercent).toBe(0);
    expect(byKey.get("storage_over_retention.media")?.differencePercent).toBeCloseTo(0.457, 2);
    expect(byKey.get("storage_per_day.text")?.differencePercent).toBeCloseTo(-7.41, 1);
    for (const comparison of byKey.values())
      expect(comparison.explanation.length).toBeGreaterThan(20);
    const text = renderEstimateText(twitter());
    expect(text).toContain("write_qps: exact 3.47k/s; quoted ~3500 (+0.8%)");
    expect(text).toContain("= 30 TB/day × 365 days × 5 years = 54.8 PB");
  });

  it("writes the assumptions down with values in base units", () => {
    const byField = new Map(twitter().assumptions.map((line) => [line.field, line]));
    expect(byField.get("monthly_active_users")).toMatchObject({
      value: 300e6,
      human: "300M users",
    });
    expect(byField.get("objects.media")).toMatchObject({
      value: 1e6,
      human: "1 MB on 10% of tweets",
    });
    expect(byField.get("retention")?.value).toBe(5 * 365 * 86_400);
    expect(byField.get("replication_factor")).toMatchObject({ value: 1, defaulted: true });
  });

  it("examples/twitter.yaml says the same as the preset", () => {
    const file = parseAssumptions(
      parseAssumptionsYaml(readFileSync(join(examples, "twitter.yaml"), "utf8"), "twitter.yaml"),
    );
    expect(file).toEqual(parseAssumptions(findPreset("twitter").raw));
  });
});

describe("example assumption files", () => {
  function load(name: string) {
    const text = readFileSync(join(examples, name), "utf8");
    return estimate(parseAssumptions(parseAssumptionsYaml(text, name)));
  }

  it("url-shortener.yaml matches the book's URL-shortener arithmetic", () => {
    const lines = new Map(load("url-shortener.yaml").lines.map((line) => [line.key, line.value]));
    expect(lines.get("writes_per_day")).toBe(100e6);
    expect(lines.get("write_qps")).toBeCloseTo(1157.41, 2); // book: ~1,160
    expect(lines.get("read_qps")).toBeCloseTo(11_574.1, 1); // book: ~11,600
    expect(lines.get("storage_over_retention")).toBeCloseTo(36.5e12, 0); // book: 36.5 TB
  });

  it.each(["chat.yaml", "photo-sharing.yaml"])("%s loads and yields every kind of line", (name) => {
    const keys = load(name).lines.map((line) => line.key);
    for (const key of [
      "dau",
      "write_qps",
      "peak_read_qps",
      "storage_per_day",
      "storage_over_retention",
      "storage_replicated",
      "peak_egress",
      "cache_memory",
      "servers",
    ]) {
      expect(keys).toContain(key);
    }
  });
});
