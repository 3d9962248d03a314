/**
 * Rules in envoy's format: the README's documented examples load and match
 * as envoy documents; malformed files fail with file, line, path and
 * problem; the watcher hot-reloads and keeps the old rules on a bad file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TempDir, tempDir } from "@scaleout/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { parseRules } from "../src/rules/config.js";
import { RuleEngine } from "../src/rules/engine.js";
import { loadRuleSet, RuleSet } from "../src/rules/rule-set.js";
import { RuleWatcher } from "../src/rules/watcher.js";
import { MemoryStore } from "../src/stores/memory-store.js";

const e = (key: string, value: string) => ({ key, value });

describe("envoy's documented example configs", () => {
  it("example 1: two database values at 500/s", () => {
    const rules = RuleSet.fromYaml(`
domain: mongo_cps
descriptors:
  - key: database
    value: users
    rate_limit:
      unit: second
      requests_per_unit: 500

  - key: database
    value: default
    rate_limit:
      unit: second
      requests_per_unit: 500
`);
    expect(rules.match("mongo_cps", [e("database", "users")])?.rule).toMatchObject({
      unit: "second",
      requestsPerUnit: 500,
    });
    expect(rules.match("mongo_cps", [e("database", "default")])?.rule.requestsPerUnit).toBe(500);
    expect(rules.match("mongo_cps", [e("database", "other")])).toBeUndefined();
    expect(rules.match("other_domain", [e("database", "users")])).toBeUndefined();
  });

  const messaging = `
domain: messaging
descriptors:
  # Only allow 5 marketing messages a day
  - key: message_type
    value: marketing
    descriptors:
      - key: to_number
        rate_limit:
          unit: day
          requests_per_unit: 5

  # Only allow 100 messages a day to any unique phone number
  - key: to_number
    rate_limit:
      unit: day
      requests_per_unit: 100
`;

  it("example 2: nested descriptors; each phone number gets its own counter", async () => {
    const rules = RuleSet.fromYaml(messaging);
    const nested = rules.match("messaging", [
      e("message_type", "marketing"),
      e("to_number", "2061111111"),
    ]);
    expect(nested?.rule.requestsPerUnit).toBe(5);
    expect(rules.match("messaging", [e("message_type", "marketing")])).toBeUndefined(); // placeholder, no limit
    expect(rules.match("messaging", [e("to_number", "2061111111")])?.rule.requestsPerUnit).toBe(
      100,
    );
    const other = rules.match("messaging", [
      e("message_type", "marketing"),
      e("to_number", "2062222222"),
    ]);
    expect(other?.key).not.toBe(nested?.key);
    // Both descriptors in one request, as the README's pseudo-IDL shows: limits are ORed.
    const engine = new RuleEngine({ rules: () => rules, store: new MemoryStore() });
    const request = {
      domain: "messaging",
      descriptors: [
        { entries: [e("message_type", "marketing"), e("to_number", "2061111111")] },
        { entries: [e("to_number", "2061111111")] },
      ],
    };
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push((await engine.check(request)).overallCode);
    expect(codes).toEqual(["OK", "OK", "OK", "OK", "OK", "OVER_LIMIT"]);
    const last = await engine.check(request);
    expect(last.statuses.map((s) => s.code)).toEqual(["OVER_LIMIT", "OK"]);
    expect(last.statuses[1]!.limitRemaining).toBe(100 - 7);
  });

  it("example 3: the most specific match wins; a limit of 0 blacklists", async () => {
    const rules = RuleSet.fromYaml(`
domain: edge_proxy_per_ip
descriptors:
  - key: remote_address
    rate_limit:
      unit: second
      requests_per_unit: 10

  # Black list IP
  - key: remote_address
    value: 50.0.0.5
    rate_limit:
      unit: second
      requests_per_unit: 0
`);
    expect(
      rules.match("edge_proxy_per_ip", [e("remote_address", "50.0.0.1")])?.rule.requestsPerUnit,
    ).toBe(10);
    expect(
      rules.match("edge_proxy_per_ip", [e("remote_address", "50.0.0.5")])?.rule.requestsPerUnit,
    ).toBe(0);
    const engine = new RuleEngine({ rules: () => rules, store: new MemoryStore() });
    const banned = await engine.check({
      domain: "edge_proxy_per_ip",
      descriptors: [{ entries: [e("remote_address", "50.0.0.5")] }],
    });
    expect(banned.overallCode).toBe("OVER_LIMIT");
  });

  it("example 4: a request deeper than the config matches nothing; the nested config matches", () => {
    const flat = RuleSet.fromYaml(`
domain: example4
descriptors:
  - key: key
    value: value
    rate_limit:
      requests_per_unit: 300
      unit: second
`);
    expect(flat.match("example4", [e("key", "value"), e("subkey", "subvalue")])).toBeUndefined();
    const nested = RuleSet.fromYaml(`
domain: example4
descriptors:
  - key: key
    value: value
    descriptors:
      - key: subkey
        rate_limit:
          requests_per_unit: 300
          unit: second
`);
    expect(
      nested.match("example4", [e("key", "value"), e("subkey", "subvalue")])?.rule.requestsPerUnit,
    ).toBe(300);
  });

  it("example 5: unlimited descriptors answer OK with MaxUint32 remaining, without the store", async () => {
    const rules = RuleSet.fromYaml(`
domain: internal
descriptors:
  - key: ldap
    rate_limit:
      unlimited: true

  - key: azure
    rate_limit:
      unit: minute
      requests_per_unit: 100
`);
    const store = new MemoryStore();
    const engine = new RuleEngine({ rules: () => rules, store });
    const response = await engine.check({
      domain: "internal",
      descriptors: [{ entries: [e("ldap", "x")] }],
    });
    expect(response.statuses[0]).toMatchObject({ code: "OK", limitRemaining: 4_294_967_295 });
    expect(store.size).toBe(0);
    expect(rules.match("internal", [e("azure", "y")])?.rule).toMatchObject({
      unit: "minute",
      requestsPerUnit: 100,
    });
  });

  it("example 6: shadow mode never denies but reports the breach", async () => {
    const rules = RuleSet.fromYaml(`
domain: example6
descriptors:
  - key: service
    descriptors:
      - key: user
        value: user-a
        rate_limit:
          requests_per_unit: 10
          unit: second
        shadow_mode: true
      - key: user
        value: user-b
        rate_limit:
          requests_per_unit: 20
          unit: second
`);
    const shadowed: string[] = [];
    const engine = new RuleEngine({
      rules: () => rules,
      store: new MemoryStore(),
      onShadowDeny: (_d, rule) => shadowed.push(rule),
    });
    const a = {
      domain: "example6",
      descriptors: [{ entries: [e("service", "auth-service"), e("user", "user-a")] }],
    };
    const b = {
      domain: "example6",
      descriptors: [{ entries: [e("service", "auth-service"), e("user", "user-b")] }],
    };
    const aCodes = [];
    for (let i = 0; i < 15; i++) aCodes.push((await engine.check(a)).overallCode);
    expect(aCodes.every((c) => c === "OK")).toBe(true);
    expect(shadowed).toHaveLength(5);
    const bCodes = [];
    for (let i = 0; i < 21; i++) bCodes.push((await engine.check(b)).overallCode);
    expect(bCodes.filter((c) => c === "OVER_LIMIT")).toHaveLength(1);
  });

  it("example 7: replaces drops the replaced limit and leaves its counter untouched", async () => {
    const rules = RuleSet.fromYaml(`
domain: example7
descriptors:
  - key: key_1
    value: value_1
    descriptors:
      - key: user
        value: bkthomps
        rate_limit:
          name: specific_limit
          requests_per_unit: 5
          unit: second
  - key: key_2
    value: value_2
    descriptors:
      - key: user
        value: bkthomps
        rate_limit:
          replaces:
            - name: specific_limit
          requests_per_unit: 10
          unit: second
`);
    const engine = new RuleEngine({ rules: () => rules, store: new MemoryStore() });
    const one = { entries: [e("key_1", "value_1"), e("user", "bkthomps")] };
    const two = { entries: [e("key_2", "value_2"), e("user", "bkthomps")] };
    const both = { domain: "example7", descriptors: [one, two] };
    for (let i = 0; i < 10; i++) expect((await engine.check(both)).overallCode).toBe("OK");
    const eleventh = await engine.check(both);
    expect(eleventh.overallCode).toBe("OVER_LIMIT");
    expect(eleventh.statuses[0]!.rule).toBeUndefined(); // replaced: not evaluated
    // The 5/s limit was not touched by the ten combined requests.
    const alone = await engine.check({ domain: "example7", descriptors: [one] });
    expect(alone.statuses[0]).toMatchObject({ code: "OK", limitRemaining: 4 });
  });

  it("example 8: detailed_metric is accepted and recorded", () => {
    const rules = parseRules(
      `
domain: example8
descriptors:
  - key: key1
    detailed_metric: true
    rate_limit:
      unit: minute
      requests_per_unit: 10
  - key: key1
    value: value1
    rate_limit:
      unit: minute
      requests_per_unit: 20
`,
      "example8.yaml",
    );
    expect(rules.rules.map((r) => [r.detailedMetric, r.requestsPerUnit])).toEqual([
      [true, 10],
      [false, 20],
    ]);
  });

  it("example 9: wildcard values match by prefix, each value counted apart", () => {
    const rules = RuleSet.fromYaml(`
domain: example9
descriptors:
  - key: key1
    value: value*
    rate_limit:
      unit: minute
      requests_per_unit: 20
`);
    const a = rules.match("example9", [e("key1", "value_1")]);
    const b = rules.match("example9", [e("key1", "value_2")]);
    expect(a?.rule.requestsPerUnit).toBe(20);
    expect(b?.rule.requestsPerUnit).toBe(20);
    expect(a?.key).not.toBe(b?.key);
    expect(rules.match("example9", [e("key1", "other")])).toBeUndefined();
  });
});

describe("our extension fields", () => {
  it("choose the algorithm, burst and queue per rule; month and year units work", () => {
    const rules = parseRules(
      `
domain: api
descriptors:
  - key: user
    rate_limit: {unit: MINUTE, requests_per_unit: 60, algorithm: token_bucket, burst: 10}
  - key: upload
    rate_limit: {unit: second, requests_per_unit: 2, algorithm: leaking_bucket, leak_mode: queue, max_wait_ms: 5000}
  - key: plan
    rate_limit: {unit: month, requests_per_unit: 100000}
  - key: yearly
    rate_limit: {unit: year, requests_per_unit: 1000}
`,
      "api.yaml",
    );
    expect(rules.rules[0]!.policy).toMatchObject({
      algorithm: "token_bucket",
      capacity: 10,
      periodMs: 60_000,
    });
    expect(rules.rules[1]!.policy).toMatchObject({
      algorithm: "leaking_bucket",
      queue: true,
      maxWaitMs: 5000,
    });
    expect(rules.rules[2]!.policy).toMatchObject({
      algorithm: "fixed_window",
      periodMs: 30 * 86_400_000,
    });
    expect(rules.rules[3]!.policy?.periodMs).toBe(365 * 86_400_000);
  });
});

describe("malformed files name the file, the place and the problem", () => {
  const cases: [string, string, RegExp][] = [
    [
      "missing domain",
      "descriptors: []\n",
      /^invalid rate limit rules: bad\.yaml:1:1: domain: missing/,
    ],
    ["empty file", "", /bad\.yaml: \(top\): the file is empty/],
    [
      "unknown key",
      "domain: d\ndescriptors:\n  - key: a\n    rate_limt: {unit: second}\n",
      /bad\.yaml:4:5: descriptors\[0\]\.rate_limt: unknown key "rate_limt"/,
    ],
    [
      "bad unit",
      "domain: d\ndescriptors:\n  - key: a\n    rate_limit:\n      unit: fortnight\n      requests_per_unit: 1\n",
      /bad\.yaml:5:13: descriptors\[0\]\.rate_limit\.unit: "fortnight" is not one of second, minute, hour, day, month, year/,
    ],
    [
      "duplicate descriptor",
      "domain: d\ndescriptors:\n  - key: a\n    value: b\n  - key: a\n    value: b\n",
      /bad\.yaml:5:5: descriptors\[1\]: duplicate descriptor "a_b" at this level/,
    ],
    [
      "duplicate key-only descriptor, nested",
      "domain: d\ndescriptors:\n  - key: a\n    descriptors:\n      - key: x\n      - key: x\n",
      /descriptors\[0\]\.descriptors\[1\]: duplicate descriptor "x"/,
    ],
    [
      "negative requests_per_unit",
      "domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unit: second, requests_per_unit: -3}\n",
      /descriptors\[0\]\.rate_limit\.requests_per_unit: expected a whole number >= 0/,
    ],
    [
      "unlimited with a unit",
      "domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unlimited: true, unit: second}\n",
      /rate_limit\.unit: must not be set when unlimited is true/,
    ],
    ["missing key", "domain: d\ndescriptors:\n  - value: a\n", /descriptors\[0\]\.key: missing/],
    [
      "bad algorithm",
      "domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unit: second, requests_per_unit: 1, algorithm: magic}\n",
      /rate_limit\.algorithm: "magic" is not one of/,
    ],
    ["yaml syntax", "domain: [unclosed\n", /bad\.yaml:\d+:\d+: /],
    [
      "shadow_mode not a bool",
      "domain: d\ndescriptors:\n  - key: a\n    shadow_mode: yes please\n",
      /shadow_mode: expected true or false/,
    ],
  ];
  it.each(cases)("%s", (_name, text, expected) => {
    expect(() => parseRules(text, "bad.yaml")).toThrow(expected);
    try {
      parseRules(text, "bad.yaml");
    } catch (error) {
      expect((error as { code: string }).code).toBe("SCALEOUT_RL_RULES_INVALID");
    }
  });

  it("rejects the same domain in two files of a directory", () => {
    const { dir, cleanup } = tempDir("rl-rules");
    try {
      writeFileSync(join(dir, "a.yaml"), "domain: same\n");
      writeFileSync(join(dir, "b.yml"), "domain: same\n");
      expect(() => loadRuleSet(dir)).toThrow(
        /b\.yml: domain "same" is already defined in .*a\.yaml/,
      );
    } finally {
      cleanup();
    }
  });
});

describe("hot reload", () => {
  let scratch: TempDir | undefined;
  afterEach(() => {
    scratch?.cleanup();
    scratch = undefined;
  });

  function nextEvent(watcher: RuleWatcher): Promise<"reload" | "error"> {
    return new Promise((resolve) => {
      watcher.once("reload", () => resolve("reload"));
      watcher.once("error", () => resolve("error"));
    });
  }

  it("watches a directory: a new file adds its domain", async () => {
    scratch = tempDir("rl-watch-dir");
    const dir = scratch.dir;
    writeFileSync(join(dir, "a.yaml"), "domain: a\n");
    const watcher = new RuleWatcher({ path: dir, debounceMs: 20 });
    try {
      expect([...watcher.rules.domains.keys()]).toEqual(["a"]);
      const event = nextEvent(watcher);
      writeFileSync(
        join(dir, "b.yml"),
        "domain: b\ndescriptors:\n  - key: k\n    rate_limit: {unit: hour, requests_per_unit: 3}\n",
      );
      expect(await event).toBe("reload");
      expect([...watcher.rules.domains.keys()].sort()).toEqual(["a", "b"]);
      expect(watcher.rules.match("b", [e("k", "v")])?.rule.requestsPerUnit).toBe(3);
    } finally {
      watcher.close();
    }
  });

  it("reloads on change and keeps the old rules when the new file is bad", async () => {
    scratch = tempDir("rl-watch");
    const dir = scratch.dir;
    const file = join(dir, "rules.yaml");
    const rules = (n: number) =>
      `domain: d\ndescriptors:\n  - key: k\n    rate_limit: {unit: second, requests_per_unit: ${n}}\n`;
    writeFileSync(file, rules(5));
    const watcher = new RuleWatcher({ path: file, debounceMs: 20 });
    try {
      expect(watcher.rules.match("d", [e("k", "v")])?.rule.requestsPerUnit).toBe(5);
      let event = nextEvent(watcher);
      writeFileSync(file, rules(7));
      expect(await event).toBe("reload");
      expect(watcher.rules.match("d", [e("k", "v")])?.rule.requestsPerUnit).toBe(7);
      event = nextEvent(watcher);
      writeFileSync(
        file,
        "domain: d\ndescriptors:\n  - key: k\n    rate_limit: {unit: fortnight, requests_per_unit: 1}\n",
      );
      expect(await event).toBe("error");
      expect(watcher.rules.match("d", [e("k", "v")])?.rule.requestsPerUnit).toBe(7);
      expect(watcher.failures).toBeGreaterThanOrEqual(1);
    } finally {
      watcher.close();
    }
  });
});
