import {
  EstimateErrorCode,
  mergeAssumptions,
  parseAssumptions,
  parseAssumptionsYaml,
  runEstimateRequest,
} from "@scaleout/estimate";
import { describe, expect, it } from "vitest";
import { refused } from "./helpers/refused.js";

const MINIMAL = { daily_active_users: "1m", actions_per_user_per_day: 3 };

describe("assumptions", () => {
  it("converts every field to base units and records defaults", () => {
    const parsed = parseAssumptions({
      monthly_active_users: "10m",
      daily_active_fraction: "20%",
      actions_per_user_per_day: "1.5",
      objects: { photo: { size: "2 MB", fraction: "5%" }, caption: "100 bytes" },
      retention: "2 years",
      read_write_ratio: "50:1",
      cache_hot_fraction: 0.2,
      server_capacity_qps: "5k",
      action: "post",
    });
    expect(parsed).toMatchObject({
      monthlyActiveUsers: 10e6,
      dailyActiveFraction: 0.2,
      actionsPerUserPerDay: 1.5,
      peakFactor: 2,
      retentionSeconds: 2 * 365 * 86_400,
      readWriteRatio: 50,
      cacheHotFraction: 0.2,
      cacheWindowSeconds: 86_400,
      serverCapacityQps: 5000,
      replicationFactor: 1,
      action: "post",
    });
    expect(parsed.objects).toEqual([
      { name: "photo", sizeBytes: 2e6, fraction: 0.05 },
      { name: "caption", sizeBytes: 100, fraction: 1 },
    ]);
    expect(parsed.defaulted).toEqual(["peak_factor", "cache_window", "replication_factor"]);
  });

  it.each([
    [
      { ...MINIMAL, monthy_active_users: 5 },
      "monthy_active_users",
      EstimateErrorCode.UNKNOWN_FIELD,
      /did you mean monthly_active_users\?/,
    ],
    [
      { ...MINIMAL, colour: "red" },
      "colour",
      EstimateErrorCode.UNKNOWN_FIELD,
      /known: name, description/,
    ],
    [
      { actions_per_user_per_day: 1 },
      "monthly_active_users",
      EstimateErrorCode.MISSING_FIELD,
      /needed/,
    ],
    [
      { monthly_active_users: "1m", actions_per_user_per_day: 1 },
      "daily_active_fraction",
      EstimateErrorCode.MISSING_FIELD,
      /needed by monthly_active_users/,
    ],
    [
      { ...MINIMAL, monthly_active_users: "2m" },
      "daily_active_users",
      EstimateErrorCode.CONFLICTING_FIELDS,
      /not both/,
    ],
    [
      { ...MINIMAL, daily_active_fraction: "10%" },
      "daily_active_fraction",
      EstimateErrorCode.CONFLICTING_FIELDS,
      /applies to monthly_active_users/,
    ],
    [
      { daily_active_users: "1m" },
      "actions_per_user_per_day",
      EstimateErrorCode.MISSING_FIELD,
      /needed/,
    ],
    [
      { ...MINIMAL, daily_active_users: "-1m" },
      "daily_active_users",
      EstimateErrorCode.NEGATIVE,
      /negative/,
    ],
    [{ ...MINIMAL, peak_factor: "0.5x" }, "peak_factor", EstimateErrorCode.OUT_OF_RANGE, /below 1/],
    [
      { ...MINIMAL, retention: "5 years" },
      "objects",
      EstimateErrorCode.MISSING_FIELD,
      /needed by retention/,
    ],
    [
      { ...MINIMAL, replication_factor: 3 },
      "objects",
      EstimateErrorCode.MISSING_FIELD,
      /needed by replication_factor/,
    ],
    [
      { ...MINIMAL, objects: { a: "1 KB" }, cache_window: "1 day" },
      "cache_hot_fraction",
      EstimateErrorCode.MISSING_FIELD,
      /needed by cache_window/,
    ],
    [
      { ...MINIMAL, objects: { media: "1 MB @ 120%" } },
      "objects.media.fraction",
      EstimateErrorCode.OUT_OF_RANGE,
      /more than 100%/,
    ],
    [
      { ...MINIMAL, objects: { media: { size: "1 parsec" } } },
      "objects.media.size",
      EstimateErrorCode.BAD_UNIT,
      /unknown size unit/,
    ],
    [
      { ...MINIMAL, objects: { media: { size: "1 MB", share: "1%" } } },
      "objects.media.share",
      EstimateErrorCode.UNKNOWN_FIELD,
      /unknown field/,
    ],
    [
      { ...MINIMAL, objects: { media: { fraction: "1%" } } },
      "objects.media.size",
      EstimateErrorCode.MISSING_FIELD,
      /needed/,
    ],
    [{ ...MINIMAL, objects: ["1 MB"] }, "objects", EstimateErrorCode.WRONG_TYPE, /got a list/],
    [
      { ...MINIMAL, objects: { "9lives": "1 KB" } },
      "objects.9lives",
      EstimateErrorCode.OUT_OF_RANGE,
      /kind name/,
    ],
    [
      { ...MINIMAL, server_capacity_qps: 0 },
      "server_capacity_qps",
      EstimateErrorCode.OUT_OF_RANGE,
      /more than 0/,
    ],
    [
      { ...MINIMAL, replication_factor: "2.5" },
      "replication_factor",
      EstimateErrorCode.OUT_OF_RANGE,
      /whole number/,
    ],
    [
      { ...MINIMAL, replication_factor: 0 },
      "replication_factor",
      EstimateErrorCode.OUT_OF_RANGE,
      /at least 1/,
    ],
    [{ ...MINIMAL, action: "!!" }, "action", EstimateErrorCode.OUT_OF_RANGE, /short name/],
    [{ ...MINIMAL, notes: { a: 1 } }, "notes[0]", EstimateErrorCode.WRONG_TYPE, /expected text/],
  ])("refuses %j naming %s", (raw, field, code, message) => {
    const error = refused(() => parseAssumptions(raw));
    expect(error.field).toBe(field);
    expect(error.code).toBe(code);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("\n");
  });

  it("refuses a document that is not a mapping", () => {
    expect(refused(() => parseAssumptions(["a"])).code).toBe(EstimateErrorCode.MALFORMED_YAML);
  });
});

describe("YAML input", () => {
  it("reads a mapping and reports malformed YAML in one line naming the source", () => {
    expect(parseAssumptionsYaml("daily_active_users: 1m\n", "a.yaml")).toEqual({
      daily_active_users: "1m",
    });
    const malformed = refused(() => parseAssumptionsYaml("a: [1, 2\nb: c: d\n", "bad.yaml"));
    expect(malformed.code).toBe(EstimateErrorCode.MALFORMED_YAML);
    expect(malformed.message).toMatch(/^bad\.yaml: malformed YAML: /);
    expect(malformed.message).not.toContain("\n");
    const duplicate = refused(() => parseAssumptionsYaml("a: 1\na: 2\n", "dup.yaml"));
    expect(duplicate.code).toBe(EstimateErrorCode.MALFORMED_YAML);
    const scalar = refused(() => parseAssumptionsYaml("just text\n", "s.yaml"));
    expect(scalar.message).toBe(
      "s.yaml: expected a YAML mapping of assumptions (field: value), got a string",
    );
    const huge = refused(() => parseAssumptionsYaml(`# ${"x".repeat(1_000_001)}`, "huge.yaml"));
    expect(huge.code).toBe(EstimateErrorCode.TOO_LARGE);
  });

  it("merges overrides over a base, objects by kind", () => {
    const merged = mergeAssumptions(
      { daily_active_users: "1m", objects: { a: "1 KB", b: "2 KB" } },
      { daily_active_users: "2m", objects: { b: "3 KB" } },
    );
    expect(merged).toEqual({ daily_active_users: "2m", objects: { a: "1 KB", b: "3 KB" } });
  });
});

describe("requests", () => {
  it("names the file for a bad file value and the flag for a bad flag value", () => {
    const fromFile = refused(() =>
      runEstimateRequest({
        yaml: {
          text: "daily_active_users: 1m\nactions_per_user_per_day: 1\npeak_factor: 0\n",
          source: "a.yaml",
        },
      }),
    );
    expect(fromFile.message).toBe("a.yaml: peak_factor: 0 is below 1");
    const fromFlag = refused(() =>
      runEstimateRequest({ preset: "twitter", overrides: { daily_active_fraction: "2" } }),
    );
    expect(fromFlag.message).toMatch(/^--daily-active-fraction: 2 is more than 100%/);
    const objectFlag = refused(() =>
      runEstimateRequest({ preset: "twitter", overrides: { objects: { media: "1 Mb" } } }),
    );
    expect(objectFlag.message).toMatch(/^--object media: size: "Mb" in "1 Mb" reads as bits/);
    const missing = refused(() => runEstimateRequest({ overrides: {} }));
    expect(missing.message).toMatch(/^--monthly-active-users: needed/);
    const both = refused(() =>
      runEstimateRequest({ preset: "twitter", yaml: { text: "{}", source: "x.yaml" } }),
    );
    expect(both.code).toBe(EstimateErrorCode.CONFLICTING_FIELDS);
    expect(refused(() => runEstimateRequest({ preset: "facebook" })).message).toBe(
      'preset: no preset named "facebook" (known: twitter)',
    );
  });

  it("drops the book comparison when flags change a preset, and says so", () => {
    const plain = runEstimateRequest({ preset: "twitter" });
    expect(plain.estimate.comparisons.length).toBeGreaterThan(0);
    expect(plain.referenceOmitted).toBeUndefined();
    const changed = runEstimateRequest({ preset: "twitter", overrides: { peak_factor: "3" } });
    expect(changed.estimate.comparisons).toEqual([]);
    expect(changed.referenceOmitted).toMatch(/--peak-factor changed the preset/);
    expect(changed.estimate.notes).toContain(changed.referenceOmitted);
  });
});
