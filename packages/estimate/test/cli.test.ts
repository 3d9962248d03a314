/**
 * End to end through the real binary: `node packages/cli/dist/main.js estimate`
 * (built by `tsc -b`, which `npm test` runs first).
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCliSync, tempDir } from "@scaleout/testkit";
import { afterAll, describe, expect, it } from "vitest";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..", "examples");
const scratch = tempDir("estimate");

afterAll(() => scratch.cleanup());

function scaleout(...args: string[]) {
  const run = runCliSync(["estimate", ...args]);
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function yamlFile(name: string, text: string): string {
  const path = join(scratch.dir, name);
  writeFileSync(path, text);
  return path;
}

describe("scaleout estimate", () => {
  it("--preset twitter prints the chapter's figures with formulas and the comparison", () => {
    const run = scaleout("--preset", "twitter");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("= 300M × 50% = 150M users");
    expect(run.stdout).toContain("= 300M / 86,400 s = 3.47k/s");
    expect(run.stdout).toContain("= 3.47k/s × 2 = 6.94k/s");
    expect(run.stdout).toContain("= 300M × 10% × 1 MB = 30 TB/day");
    expect(run.stdout).toContain("= 30 TB/day × 365 days × 5 years = 54.8 PB");
    expect(run.stdout).toContain("storage_over_retention.media: exact 54.8 PB; quoted ~55 PB");
  });

  it("--json gives machine output with unrounded values", () => {
    const run = scaleout("--preset", "twitter", "--json");
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as {
      lines: { key: string; value: number; formula: string; substituted: string; human: string }[];
      comparisons: { key: string }[];
    };
    const qps = parsed.lines.find((line) => line.key === "write_qps");
    expect(qps?.value).toBeCloseTo(3472.2222, 3);
    expect(qps?.human).toBe("3.47k/s");
    expect(parsed.comparisons.map((c) => c.key)).toContain("storage_over_retention.media");
  });

  it("reads a YAML file, and flags override it", () => {
    const file = yamlFile(
      "chat.yaml",
      "daily_active_users: 10m\nactions_per_user_per_day: 40\nobjects:\n  message: 100 bytes\n" +
        "read_write_ratio: 5:1\nserver_capacity_qps: 5k\n",
    );
    const run = scaleout(file, "--json");
    expect(run.code).toBe(0);
    const lines = (JSON.parse(run.stdout) as { lines: { key: string; value: number }[] }).lines;
    const byKey = new Map(lines.map((line) => [line.key, line.value]));
    expect(byKey.get("writes_per_day")).toBe(400e6);
    expect(byKey.get("storage_per_day")).toBe(40e9);
    // Peak writes 9,259/s + peak reads 46,296/s over 5k/s per server.
    expect(byKey.get("servers")).toBe(12);
    const overridden = scaleout(file, "--json", "--server-capacity-qps", "50k");
    const servers = (
      JSON.parse(overridden.stdout) as { lines: { key: string; value: number }[] }
    ).lines.find((line) => line.key === "servers");
    expect(servers?.value).toBe(2);
  });

  it("runs from flags alone, with --object", () => {
    const run = scaleout(
      "--daily-active-users",
      "1m",
      "--actions-per-user-per-day",
      "10",
      "--object",
      "photo=2 MB @ 5%",
      "--binary",
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("= 10M × 5% × 1.91 MiB = 931 GiB/day");
  });

  it.each(["powers", "latency", "nines"])("--table %s prints a reference table", (name) => {
    const text = scaleout("--table", name);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Source: /);
    const json = scaleout("--table", name, "--json");
    expect((JSON.parse(json.stdout) as { name: string }).name).toBe(name);
  });

  it("the examples load and estimate", () => {
    for (const example of [
      "twitter.yaml",
      "chat.yaml",
      "url-shortener.yaml",
      "photo-sharing.yaml",
    ]) {
      const run = scaleout(join(examples, example), "--json");
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const parsed = JSON.parse(run.stdout) as { lines: unknown[] };
      expect(parsed.lines.length).toBeGreaterThan(5);
    }
  });

  describe("bad input: one line naming the field, exit code 2", () => {
    const cases: [string, () => string[], RegExp][] = [
      [
        "unknown unit",
        () => [
          yamlFile(
            "unit.yaml",
            "daily_active_users: 1m\nactions_per_user_per_day: 1\nobjects:\n  blob: 5 parsecs\n",
          ),
        ],
        /unit\.yaml: objects\.blob\.size: unknown size unit "parsecs"/,
      ],
      [
        "negative count",
        () => [yamlFile("negative.yaml", "daily_active_users: -5\nactions_per_user_per_day: 1\n")],
        /negative\.yaml: daily_active_users: -5 is negative/,
      ],
      [
        "fraction above 1",
        () => [
          yamlFile(
            "fraction.yaml",
            "monthly_active_users: 1m\ndaily_active_fraction: 120%\nactions_per_user_per_day: 1\n",
          ),
        ],
        /fraction\.yaml: daily_active_fraction: 120% is more than 100%/,
      ],
      [
        "malformed YAML",
        () => [yamlFile("broken.yaml", "daily_active_users: [1m\nactions: {\n")],
        /broken\.yaml: malformed YAML: /,
      ],
      [
        "unknown field",
        () => [
          yamlFile(
            "typo.yaml",
            "daily_active_users: 1m\nactions_per_user_per_day: 1\nretension: 5 years\n",
          ),
        ],
        /typo\.yaml: retension: unknown field \(did you mean retention\?\)/,
      ],
      [
        "bad flag value",
        () => ["--preset", "twitter", "--peak-factor", "half"],
        /--peak-factor: "half" does not start with a number/,
      ],
      ["unknown preset", () => ["--preset", "myspace"], /preset: no preset named "myspace"/],
      ["unknown table", () => ["--table", "primes"], /table: no table named "primes"/],
      [
        "missing file",
        () => [join(scratch.dir, "absent.yaml")],
        /absent\.yaml: cannot read the assumptions file \(ENOENT\)/,
      ],
      ["no input at all", () => [], /give an assumptions file, --preset <name>/],
      [
        "malformed --object",
        () => ["--preset", "twitter", "--object", "media"],
        /--object: "media" is not kind=size/,
      ],
    ];
    it.each(cases)("%s", (_name, args, message) => {
      const run = scaleout(...args());
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^scaleout: /);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    });
  });
});
